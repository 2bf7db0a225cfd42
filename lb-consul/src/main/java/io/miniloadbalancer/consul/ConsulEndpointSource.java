package io.miniloadbalancer.consul;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.SourceSnapshot;
import io.miniloadbalancer.core.spi.EndpointSource;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An endpoint source that watches one Consul service through blocking queries on {@code
 * /v1/health/service/<name>} (all instances, not only passing ones: a critical instance is kept and
 * marked unhealthy, so it keeps its history and the balancer's panic threshold sees it).
 *
 * <pre>{@code
 * LoadBalancer lb = LoadBalancer.builder()
 *     .name("api")
 *     .source(ConsulEndpointSource.builder("api").agent("http://127.0.0.1:8500").build())
 *     .build();
 * }</pre>
 *
 * <p>The watch loop runs on one daemon thread and is hardened against what agents and the client
 * library do when things go wrong:
 *
 * <ul>
 *   <li><b>Index rules</b> (Consul's own advice): an index that goes backwards (an agent restart)
 *       resets the next query to index 0; an index of 0 or a missing one is never sent back (the
 *       next query uses 1), so the loop cannot spin on answers that return at once. After a failed
 *       query the next one asks with index 0: an agent that restarted meanwhile would otherwise
 *       hold a query carrying the old, now future, index for the full wait.
 *   <li><b>Rate limit</b>: queries start at least {@code minQueryInterval} apart, whatever the
 *       agent does.
 *   <li><b>Backoff</b>: after an error (unreachable, 5xx, a hang past the read timeout, garbage)
 *       the loop waits with exponential backoff and jitter, and keeps the last good set.
 *   <li><b>Read timeout above the wait</b>: the HTTP read timeout is {@code wait + wait/16 + 3 s}
 *       (Consul adds up to wait/16 of jitter), so a quiet blocking query is never a timeout.
 *   <li><b>Sanity guards</b>: an answer that empties the set or drops more than {@code
 *       maxShrinkPercent} of it is believed only once it has persisted for {@code
 *       shrinkConfirmation}; until then the balancer keeps the last good set.
 *   <li><b>Visibility</b>: {@link #snapshot()} gives the age of the last good answer and the
 *       current problem; each kind of problem is logged once when it starts and once when it ends.
 * </ul>
 *
 * <p>How Consul's view combines with the balancer's own: see {@link
 * io.miniloadbalancer.core.SourceHealth}. An instance is routable only when Consul says passing (or
 * warning, per {@link WarningPolicy}) <em>and</em> the balancer's probes and outlier detection say
 * up. A deregistered instance drains, then leaves the pool.
 */
public final class ConsulEndpointSource implements EndpointSource {

  private static final Logger LOG = LoggerFactory.getLogger(ConsulEndpointSource.class);

  private final Builder config;
  private final String description;
  private final ConsulWatch watch;
  private @Nullable Thread thread;

  private ConsulEndpointSource(Builder b) {
    this.config = b;
    this.description =
        "consul service '"
            + b.service
            + "'"
            + (b.tags.isEmpty() ? "" : " tags " + b.tags)
            + (b.datacenter == null ? "" : " dc " + b.datacenter)
            + " at "
            + b.agent;
    this.watch = new ConsulWatch(b, description);
  }

  /**
   * A builder for a source watching {@code service}.
   *
   * @param service the Consul service name
   * @return a builder for a source watching {@code service}
   * @throws IllegalArgumentException when the name is blank
   */
  public static Builder builder(String service) {
    return new Builder(service);
  }

  /**
   * Starts the watch on its own daemon thread and waits up to {@code startupTimeout} for the first
   * answer, so a balancer built on a reachable agent is routable when {@code build()} returns. An
   * unreachable agent does not fail the start: the balancer stays empty and the loop keeps trying.
   */
  @Override
  public synchronized void start(Listener listener) {
    requireNonNull(listener, "listener");
    if (thread != null) {
      throw new IllegalStateException("this source already feeds a balancer");
    }
    Thread t = new Thread(() -> watch.run(listener), "consul-watch-" + config.service);
    t.setDaemon(true);
    thread = t;
    t.start();
    try {
      if (!watch.awaitFirstAnswer(config.startupTimeout.toNanos())) {
        LOG.warn(
            "{}: no answer within {} ms; starting empty and retrying in the background" + " ({})",
            description,
            config.startupTimeout.toMillis(),
            watch.problem());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public SourceSnapshot snapshot() {
    long stale = watch.stalenessNanos(System.nanoTime());
    Duration staleness = stale < 0 ? null : Duration.ofNanos(stale);
    return new SourceSnapshot(description, staleness, watch.problem());
  }

  /**
   * How many queries the watch loop has sent; for tests and diagnostics.
   *
   * @return how many queries the watch loop has sent; for tests and diagnostics
   */
  public long queries() {
    return watch.queries();
  }

  /** Stops the watch: the query in flight is cancelled and the thread ends. */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      t = thread;
    }
    watch.close();
    if (t != null) {
      t.interrupt();
      try {
        t.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return description;
  }

  /** Settings for a {@link ConsulEndpointSource}; every default is documented with its reason. */
  public static final class Builder {

    // Package-private where ConsulWatch reads them; the rest stay private.
    final String service;
    URI agent = AgentUrl.LOCAL;
    List<String> tags = List.of();
    @Nullable String datacenter;
    @Nullable String aclToken;
    Duration wait = Duration.ofSeconds(30);
    Duration connectTimeout = Duration.ofSeconds(2);
    Duration minQueryInterval = Duration.ofMillis(250);
    Duration backoffInitial = Duration.ofSeconds(1);
    Duration backoffMax = Duration.ofSeconds(30);
    int maxShrinkPercent = 50;
    Duration shrinkConfirmation = Duration.ofSeconds(30);
    private Duration startupTimeout = Duration.ofSeconds(5);
    private WarningPolicy warningPolicy = WarningPolicy.WARNING_WEIGHT;
    private @Nullable String weightMetaKey;
    private @Nullable String zoneMetaKey = "zone";

    private Builder(String service) {
      requireNonNull(service, "service");
      if (service.isBlank()) {
        throw new IllegalArgumentException("service must not be blank");
      }
      this.service = service;
    }

    /**
     * The agent's HTTP address. Default {@code http://127.0.0.1:8500}: the local agent, as Consul
     * intends (servers are not queried directly).
     *
     * @param url the agent's HTTP address
     * @return this builder
     */
    public Builder agent(String url) {
      this.agent = AgentUrl.parse(url);
      return this;
    }

    /**
     * Only instances carrying all these tags. Default: none (every instance).
     *
     * @param tags only instances carrying all these tags
     * @return this builder
     */
    public Builder tags(String... tags) {
      for (String t : tags) {
        requireNonNull(t, "tag");
      }
      this.tags = List.of(tags);
      return this;
    }

    /**
     * The datacenter to query. Default: the agent's own.
     *
     * @param datacenter the datacenter to query
     * @return this builder
     */
    public Builder datacenter(String datacenter) {
      this.datacenter = requireNonNull(datacenter, "datacenter");
      return this;
    }

    /**
     * The ACL token sent with every query. Default: none (the agent's default token).
     *
     * @param token the ACL token sent with every query
     * @return this builder
     */
    public Builder aclToken(String token) {
      this.aclToken = requireNonNull(token, "aclToken");
      return this;
    }

    /**
     * How long a blocking query may wait for a change, whole seconds from 1 s to 10 min. Default 30
     * s: short enough that a silently dead connection is noticed within a minute, long enough that
     * an idle watch costs two queries a minute. The read timeout is derived from it.
     *
     * @param wait how long a blocking query may wait for a change, whole seconds from 1 s to 10 min
     * @return this builder
     */
    public Builder wait(Duration wait) {
      requireNonNull(wait, "wait");
      if (wait.compareTo(Duration.ofSeconds(1)) < 0
          || wait.compareTo(Duration.ofMinutes(10)) > 0
          || wait.toMillis() % 1000 != 0) {
        throw new IllegalArgumentException(
            "wait must be whole seconds from 1 s to 10 min, was " + wait);
      }
      this.wait = wait;
      return this;
    }

    /**
     * TCP connect timeout to the agent. Default 2 s: the agent is local.
     *
     * @param timeout TCP connect timeout to the agent
     * @return this builder
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connectTimeout");
      return this;
    }

    /**
     * The least time between two queries. Default 250 ms: bounds the load an agent answering at
     * once (index trouble, a fast-changing service) can cause to 4 queries a second, while changes
     * still arrive well within a second.
     *
     * @param interval the least time between two queries
     * @return this builder
     */
    public Builder minQueryInterval(Duration interval) {
      requireNonNull(interval, "minQueryInterval");
      if (interval.isNegative()) {
        throw new IllegalArgumentException(
            "minQueryInterval must not be negative, was " + interval);
      }
      this.minQueryInterval = interval;
      return this;
    }

    /**
     * Backoff after failed queries: from {@code initial}, doubling, up to {@code max}, with jitter.
     * Default 1 s to 30 s: fast recovery from a blip, and an agent in trouble is not hammered.
     *
     * @param initial the first wait after a failed query
     * @param max the longest wait
     * @return this builder
     */
    public Builder backoff(Duration initial, Duration max) {
      positive(initial, "backoff initial");
      positive(max, "backoff max");
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "backoff max must be at least initial, was " + max + " < " + initial);
      }
      this.backoffInitial = initial;
      this.backoffMax = max;
      return this;
    }

    /**
     * Membership guard: an answer that empties the set or drops more than {@code percent} of it is
     * believed only after it persisted for {@code confirmation}. Default 50% and 30 s: a rolling
     * deploy replaces instances a few at a time, while an agent that lost its state drops them all
     * at once; 30 s is shorter than Consul's minimum {@code DeregisterCriticalServiceAfter} (1
     * min). {@code percent} 100 only guards against an empty set.
     *
     * @param percent the share of endpoints an update may remove before it needs confirming
     * @param confirmation how long such an update must persist to be believed
     * @return this builder
     */
    public Builder shrinkGuard(int percent, Duration confirmation) {
      if (percent < 0 || percent > 100) {
        throw new IllegalArgumentException("shrinkGuard percent must be in 0..100, was " + percent);
      }
      requireNonNull(confirmation, "shrinkGuard confirmation");
      if (confirmation.isNegative()) {
        throw new IllegalArgumentException(
            "shrinkGuard confirmation must not be negative, was " + confirmation);
      }
      this.maxShrinkPercent = percent;
      this.shrinkConfirmation = confirmation;
      return this;
    }

    /**
     * How long {@code start} waits for the first answer. Default 5 s; an agent that does not answer
     * by then does not fail the start (the balancer starts empty and fills when the agent answers).
     *
     * @param timeout how long {@code start} waits for the first answer
     * @return this builder
     */
    public Builder startupTimeout(Duration timeout) {
      requireNonNull(timeout, "startupTimeout");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("startupTimeout must not be negative, was " + timeout);
      }
      this.startupTimeout = timeout;
      return this;
    }

    /**
     * What a {@code warning} status does. Default {@link WarningPolicy#WARNING_WEIGHT}.
     *
     * @param policy what a {@code warning} status does
     * @return this builder
     */
    public Builder warningPolicy(WarningPolicy policy) {
      this.warningPolicy = requireNonNull(policy, "warningPolicy");
      return this;
    }

    /**
     * A {@code Service.Meta} key whose integer value overrides {@code Weights.Passing}. Default:
     * none (Consul's weights, which its DNS interface also honours).
     *
     * @param key a {@code Service.Meta} key whose integer value overrides {@code Weights.Passing}
     * @return this builder
     */
    public Builder weightMetaKey(String key) {
      this.weightMetaKey = requireNonNull(key, "weightMetaKey");
      return this;
    }

    /**
     * The {@code Service.Meta} key holding the instance's zone, for zone-aware routing. Default
     * {@code "zone"}.
     *
     * @param key the {@code Service.Meta} key holding the instance's zone, for zone-aware routing
     * @return this builder
     */
    public Builder zoneMetaKey(String key) {
      this.zoneMetaKey = requireNonNull(key, "zoneMetaKey");
      return this;
    }

    /**
     * Builds the source; it starts watching when a balancer starts it.
     *
     * @return the source, not yet watching
     */
    public ConsulEndpointSource build() {
      return new ConsulEndpointSource(this);
    }

    ConsulMapping.Settings mapping() {
      return new ConsulMapping.Settings(warningPolicy, weightMetaKey, zoneMetaKey);
    }

    private static Duration positive(Duration d, String name) {
      requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + d);
      }
      return d;
    }
  }
}
