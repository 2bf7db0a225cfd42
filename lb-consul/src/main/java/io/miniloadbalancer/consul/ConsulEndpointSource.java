package io.miniloadbalancer.consul;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.SourceSnapshot;
import io.miniloadbalancer.core.spi.EndpointSource;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.kiwiproject.consul.Consul;
import org.kiwiproject.consul.HealthClient;
import org.kiwiproject.consul.config.CacheConfig;
import org.kiwiproject.consul.config.ClientConfig;
import org.kiwiproject.consul.model.ConsulResponse;
import org.kiwiproject.consul.model.health.ServiceHealth;
import org.kiwiproject.consul.option.ImmutableQueryOptions;
import org.kiwiproject.consul.option.QueryOptions;
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
    private final Consul consul;
    private final HealthClient health;
    private final UpdateGuard guard;
    private final CountDownLatch firstAnswer = new CountDownLatch(1);
    private final Set<String> loggedSkips = new HashSet<>();

    private volatile boolean closed;
    private volatile long lastGoodNanos = Long.MIN_VALUE;
    private volatile @Nullable String problem;
    private volatile long queries;
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
        Consul.Builder client =
                Consul.builder()
                        .withUrl(b.agent.toString())
                        .withPing(false)
                        .withConnectTimeoutMillis(b.connectTimeout.toMillis())
                        .withReadTimeoutMillis(readTimeout(b.wait).toMillis())
                        // One read-timeout rule, ours (below), instead of the client's per-request
                        // adjustment.
                        .withClientConfiguration(
                                new ClientConfig(
                                        CacheConfig.builder()
                                                .withTimeoutAutoAdjustmentEnabled(false)
                                                .build()));
        if (b.aclToken != null) {
            client.withAclToken(b.aclToken);
        }
        this.consul = client.build();
        this.health = consul.healthClient();
        this.guard = new UpdateGuard(b.maxShrinkPercent, b.shrinkConfirmation.toNanos());
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
     * Consul adds up to wait/16 of jitter to a blocking query; 3 s more covers a busy local agent.
     */
    static Duration readTimeout(Duration wait) {
        return wait.plus(wait.dividedBy(16)).plusSeconds(3);
    }

    /**
     * Starts the watch on its own daemon thread and waits up to {@code startupTimeout} for the
     * first answer, so a balancer built on a reachable agent is routable when {@code build()}
     * returns. An unreachable agent does not fail the start: the balancer stays empty and the loop
     * keeps trying.
     */
    @Override
    public synchronized void start(Listener listener) {
        requireNonNull(listener, "listener");
        if (thread != null) {
            throw new IllegalStateException("this source already feeds a balancer");
        }
        Thread t = new Thread(() -> watch(listener), "consul-watch-" + config.service);
        t.setDaemon(true);
        thread = t;
        t.start();
        try {
            if (!firstAnswer.await(config.startupTimeout.toNanos(), TimeUnit.NANOSECONDS)) {
                LOG.warn(
                        "{}: no answer within {} ms; starting empty and retrying in the background"
                                + " ({})",
                        description,
                        config.startupTimeout.toMillis(),
                        problem);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public SourceSnapshot snapshot() {
        long last = lastGoodNanos;
        Duration staleness =
                last == Long.MIN_VALUE ? null : Duration.ofNanos(System.nanoTime() - last);
        return new SourceSnapshot(description, staleness, problem);
    }

    /**
     * How many queries the watch loop has sent; for tests and diagnostics.
     *
     * @return how many queries the watch loop has sent; for tests and diagnostics
     */
    public long queries() {
        return queries;
    }

    /** Stops the watch: the query in flight is cancelled and the thread ends. */
    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        consul.destroy();
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

    // ---- the watch loop
    // ----------------------------------------------------------------------------

    private void watch(Listener listener) {
        BigInteger index = BigInteger.ZERO;
        int failures = 0;
        long failingSince = 0;
        @Nullable String problemKind = null;
        while (!closed) {
            long started = System.nanoTime();
            long waitNanos = config.wait.toNanos();
            UpdateGuard.Verdict held = null;
            try {
                queries++;
                ConsulResponse<List<ServiceHealth>> answer =
                        health.getAllServiceInstances(config.service, query(index, waitNanos));
                List<ServiceHealth> instances = answer.getResponse();
                if (instances == null) {
                    throw new IllegalStateException("the agent answered without a body");
                }
                ConsulMapping.Mapped mapped =
                        ConsulMapping.map(filterTags(instances), config.mapping());
                logSkips(mapped.skipped());
                Set<String> ids = new HashSet<>();
                mapped.endpoints().forEach(e -> ids.add(e.id()));
                UpdateGuard.Verdict verdict = guard.offer(ids, System.nanoTime());
                if (verdict.accept()) {
                    listener.onEndpoints(mapped.endpoints(), mapped.health());
                    lastGoodNanos = System.nanoTime();
                    firstAnswer.countDown();
                } else {
                    held = verdict;
                }
                index = nextIndex(index, answer.getIndex());
                if (failures > 0 || problemKind != null) {
                    LOG.info(
                            "{}: recovered after {} failed queries in {} ms",
                            description,
                            failures,
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failingSince));
                }
                failures = 0;
                problemKind = null;
                if (held != null) {
                    String why = "holding the last good set: " + held.holdReason();
                    if (problem == null || !problem.startsWith("holding")) {
                        LOG.warn(
                                "{}: {}; believed only if it persists {} ms more",
                                description,
                                why,
                                TimeUnit.NANOSECONDS.toMillis(held.remainingNanos()));
                    }
                    problem = why;
                } else if (problem != null) {
                    if (problem.startsWith("holding")) {
                        LOG.info(
                                "{}: membership change believed ({})",
                                description,
                                ids.size() + " instances");
                    }
                    problem = null;
                }
                pause(started, config.minQueryInterval.toNanos());
                if (held != null && !closed) {
                    // Re-ask soon enough to confirm or drop the shrink on time, not one full wait
                    // later.
                    index = BigInteger.ZERO;
                    pause(
                            System.nanoTime(),
                            Math.min(held.remainingNanos(), TimeUnit.SECONDS.toNanos(1)));
                }
            } catch (RuntimeException e) {
                if (closed) {
                    break;
                }
                if (failures == 0) {
                    failingSince = started;
                }
                failures++;
                // After a failure the agent may have restarted with a lower index; a query with our
                // old,
                // now "future" index would block for the full wait before telling us. Re-sync at
                // once.
                index = BigInteger.ZERO;
                String kind = e.getClass().getName() + ":" + rootCause(e).getClass().getName();
                problem =
                        "query failed " + failures + "x, keeping the last good set: " + describe(e);
                if (!kind.equals(problemKind)) {
                    LOG.warn("{}: {}", description, problem);
                    problemKind = kind;
                } else {
                    LOG.debug("{}: {}", description, problem);
                }
                pause(System.nanoTime(), backoffNanos(failures));
            }
        }
    }

    private QueryOptions query(BigInteger index, long waitNanos) {
        ImmutableQueryOptions.Builder q = ImmutableQueryOptions.builder();
        // Index 0 asks for an immediate answer; a wait needs an index, so none then.
        if (index.signum() > 0) {
            q.index(index).wait(Math.max(1, TimeUnit.NANOSECONDS.toSeconds(waitNanos)) + "s");
        }
        if (config.datacenter != null) {
            q.datacenter(config.datacenter);
        }
        q.tag(config.tags);
        return q.build();
    }

    /** Consul's blocking-query index rules. */
    BigInteger nextIndex(BigInteger current, @Nullable BigInteger answered) {
        return nextIndex(current, answered, description);
    }

    static BigInteger nextIndex(BigInteger current, @Nullable BigInteger answered, String who) {
        if (answered == null || answered.signum() <= 0) {
            // Never send 0 (or nothing) back: the agent would answer at once, every time.
            LOG.debug("{}: answer had index {}; next query uses 1", who, answered);
            return BigInteger.ONE;
        }
        if (answered.compareTo(current) < 0) {
            LOG.info(
                    "{}: index went backwards ({} -> {}), the agent restarted or changed; resetting"
                            + " to 0",
                    who,
                    current,
                    answered);
            return BigInteger.ZERO;
        }
        return answered;
    }

    /** Exponential with equal jitter: half fixed, half random, so retries never synchronise. */
    long backoffNanos(int failures) {
        long base = config.backoffInitial.toNanos();
        long max = config.backoffMax.toNanos();
        long exp = failures >= 30 ? max : Math.min(max, base << Math.min(failures - 1, 30));
        long half = Math.max(1, exp / 2);
        return half + ThreadLocalRandom.current().nextLong(half + 1);
    }

    private List<ServiceHealth> filterTags(List<ServiceHealth> instances) {
        if (config.tags.isEmpty()) {
            return instances;
        }
        // The agent filters already; this guards against an agent that ignored the parameter.
        List<ServiceHealth> kept = new ArrayList<>(instances.size());
        for (ServiceHealth sh : instances) {
            if (sh.getService().getTags().containsAll(config.tags)) {
                kept.add(sh);
            }
        }
        return kept;
    }

    private void logSkips(List<String> skipped) {
        for (String s : skipped) {
            if (loggedSkips.size() > 1_000) {
                loggedSkips.clear();
            }
            if (loggedSkips.add(s)) {
                LOG.warn("{}: instance skipped: {}", description, s);
            }
        }
    }

    private void pause(long fromNanos, long nanos) {
        long until = fromNanos + nanos;
        long left;
        while (!closed && (left = until - System.nanoTime()) > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private static Throwable rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    private static String describe(Throwable e) {
        Throwable root = rootCause(e);
        String msg = e.getMessage();
        String rootMsg =
                root == e
                        ? ""
                        : " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
        String text = (msg == null ? e.getClass().getSimpleName() : msg) + rootMsg;
        return text.length() > 300 ? text.substring(0, 300) + "..." : text;
    }

    /** Settings for a {@link ConsulEndpointSource}; every default is documented with its reason. */
    public static final class Builder {

        private final String service;
        private URI agent = AgentUrl.LOCAL;
        private List<String> tags = List.of();
        private @Nullable String datacenter;
        private @Nullable String aclToken;
        private Duration wait = Duration.ofSeconds(30);
        private Duration connectTimeout = Duration.ofSeconds(2);
        private Duration minQueryInterval = Duration.ofMillis(250);
        private Duration backoffInitial = Duration.ofSeconds(1);
        private Duration backoffMax = Duration.ofSeconds(30);
        private int maxShrinkPercent = 50;
        private Duration shrinkConfirmation = Duration.ofSeconds(30);
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
         * The agent's HTTP address. Default {@code http://127.0.0.1:8500}: the local agent, as
         * Consul intends (servers are not queried directly).
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
         * How long a blocking query may wait for a change, whole seconds from 1 s to 10 min.
         * Default 30 s: short enough that a silently dead connection is noticed within a minute,
         * long enough that an idle watch costs two queries a minute. The read timeout is derived
         * from it.
         *
         * @param wait how long a blocking query may wait for a change, whole seconds from 1 s to 10
         *     min
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
         * once (index trouble, a fast-changing service) can cause to 4 queries a second, while
         * changes still arrive well within a second.
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
         * Backoff after failed queries: from {@code initial}, doubling, up to {@code max}, with
         * jitter. Default 1 s to 30 s: fast recovery from a blip, and an agent in trouble is not
         * hammered.
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
         * Membership guard: an answer that empties the set or drops more than {@code percent} of it
         * is believed only after it persisted for {@code confirmation}. Default 50% and 30 s: a
         * rolling deploy replaces instances a few at a time, while an agent that lost its state
         * drops them all at once; 30 s is shorter than Consul's minimum {@code
         * DeregisterCriticalServiceAfter} (1 min). {@code percent} 100 only guards against an empty
         * set.
         *
         * @param percent the share of endpoints an update may remove before it needs confirming
         * @param confirmation how long such an update must persist to be believed
         * @return this builder
         */
        public Builder shrinkGuard(int percent, Duration confirmation) {
            if (percent < 0 || percent > 100) {
                throw new IllegalArgumentException(
                        "shrinkGuard percent must be in 0..100, was " + percent);
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
         * How long {@code start} waits for the first answer. Default 5 s; an agent that does not
         * answer by then does not fail the start (the balancer starts empty and fills when the
         * agent answers).
         *
         * @param timeout how long {@code start} waits for the first answer
         * @return this builder
         */
        public Builder startupTimeout(Duration timeout) {
            requireNonNull(timeout, "startupTimeout");
            if (timeout.isNegative()) {
                throw new IllegalArgumentException(
                        "startupTimeout must not be negative, was " + timeout);
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
         * A {@code Service.Meta} key whose integer value overrides {@code Weights.Passing}.
         * Default: none (Consul's weights, which its DNS interface also honours).
         *
         * @param key a {@code Service.Meta} key whose integer value overrides {@code
         *     Weights.Passing}
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
         * @param key the {@code Service.Meta} key holding the instance's zone, for zone-aware
         *     routing
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
