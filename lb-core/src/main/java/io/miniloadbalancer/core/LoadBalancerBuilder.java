package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.internal.strategy.StrategyRegistry;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.EndpointSource;
import io.miniloadbalancer.core.spi.Scheduler;
import io.miniloadbalancer.core.spi.Ticker;
import io.miniloadbalancer.core.strategy.Strategy;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Configures a {@link LoadBalancer}; {@link LoadBalancer#builder()} gives one with every default.
 *
 * <p>Each setting may be set once: a second call of the same setter throws {@link
 * IllegalStateException} naming the setting, so a default that a caller thought it overrode, or a
 * value set in two places, cannot silently lose (only {@link #listener} and {@link #addStrategy}
 * add, so they may be called again). {@link #build()} validates and freezes the settings into an
 * immutable configuration and starts a balancer from it, so the builder can build again. Not
 * thread-safe.
 */
public final class LoadBalancerBuilder {

  String name = "default";
  @Nullable Collection<Endpoint> endpoints;
  @Nullable EndpointSource source;
  String strategy = Strategies.ROUND_ROBIN;
  Duration minSwitchInterval = Duration.ofSeconds(10);
  Duration removalDrainTimeout = Duration.ofSeconds(30);
  Duration drainSessionQuietPeriod = Duration.ofSeconds(5);
  Duration ewmaDecay = Duration.ofSeconds(10);
  Duration ewmaDefaultRtt = Duration.ofMillis(30);
  int hashBalanceFactor;
  int ringPointsPerEndpoint = 500;
  int minRingSize = 1024;
  int maxRingSize = 1 << 20;
  int maglevMinTableSize = 65_537;
  int transitionLogSize = 256;
  Ticker ticker = Ticker.system();
  Clock clock = Clock.systemUTC();
  LongSupplier random = () -> ThreadLocalRandom.current().nextLong();
  @Nullable Scheduler scheduler;
  @Nullable HealthCheck healthCheck;
  @Nullable OutlierDetection outlierDetection;
  @Nullable SlowStart slowStart;
  int panicThreshold = 50;
  String localZone = "";
  int localZoneMinHealthyPercent = 70;
  Duration maxPenalty = Duration.ofSeconds(30);
  int retryBudgetPercent = 20;
  int retryBudgetMinPerSecond = 10;
  Duration retryBudgetWindow = Duration.ofSeconds(1);
  final List<BalancerListener> listeners = new ArrayList<>();
  StrategyRegistry registry = StrategyRegistry.standard();
  final Set<String> set = new HashSet<>();

  LoadBalancerBuilder() {}

  /**
   * The pool's name, used in logs, errors, snapshots and metric tags. Default {@code default}.
   *
   * @param name the pool's name, used in logs, errors, snapshots and metric tags
   * @return this builder
   */
  public LoadBalancerBuilder name(String name) {
    if (requireNonNull(name, "name").isBlank()) {
      throw new IllegalArgumentException("name must not be blank");
    }
    this.name = set("name", name);
    return this;
  }

  /**
   * A fixed set of endpoints (a {@link StaticEndpointSource}). Excludes {@link #source}.
   *
   * @param endpoints a fixed set of endpoints (a {@link StaticEndpointSource})
   * @return this builder
   */
  public LoadBalancerBuilder endpoints(Collection<Endpoint> endpoints) {
    this.endpoints = List.copyOf(set("endpoints", endpoints));
    return this;
  }

  /**
   * A fixed set of endpoints (a {@link StaticEndpointSource}). Excludes {@link #source}.
   *
   * @param endpoints a fixed set of endpoints (a {@link StaticEndpointSource})
   * @return this builder
   */
  public LoadBalancerBuilder endpoints(Endpoint... endpoints) {
    return endpoints(Arrays.asList(endpoints));
  }

  /**
   * Where endpoints come from (Consul, an admin plane, a {@link StaticEndpointSource}).
   *
   * @param source the endpoint source
   * @return this builder
   */
  public LoadBalancerBuilder source(EndpointSource source) {
    this.source = set("source", source);
    return this;
  }

  /**
   * The strategy at start, one of {@link Strategies#names()} or a strategy added before with {@link
   * #addStrategy}. Default {@code round-robin}: the default of Envoy, gRPC and Spring Cloud
   * LoadBalancer, and the most predictable; prefer {@code p2c-ewma} when backends differ in speed.
   *
   * @param strategy the strategy's name
   * @return this builder
   * @throws IllegalArgumentException naming the valid strategies, when unknown
   */
  public LoadBalancerBuilder strategy(String strategy) {
    this.strategy = registry.requireKnown(set("strategy", strategy));
    return this;
  }

  /**
   * Adds a strategy this balancer knows besides the built-in and service-loaded ones: it can be
   * named in {@link #strategy} (after this call) and in {@link LoadBalancer#switchStrategy}.
   *
   * @param strategy the strategy, registered under its {@link Strategy#name()}
   * @return this builder
   * @throws IllegalStateException when a strategy of that name is already known
   */
  public LoadBalancerBuilder addStrategy(Strategy strategy) {
    registry = registry.with(strategy);
    return this;
  }

  /**
   * The minimum time between two strategy switches. Default 10 s: a switch resets hash affinity and
   * EWMA learning, and 10 s is the EWMA's decay time, so a faster toggle (an operator's double
   * click, a flapping automation) cannot thrash routing.
   *
   * @param interval the minimum time between two strategy switches
   * @return this builder
   */
  public LoadBalancerBuilder minSwitchInterval(Duration interval) {
    this.minSwitchInterval = nonNegative(interval, "minSwitchInterval");
    return this;
  }

  /**
   * How long an endpoint removed by its source may drain before it is dropped with leases still
   * open. Default 30 s: longer than any sane request, shorter than ALB's 300 s deregistration
   * delay, so the pool cannot fill with ghosts from leaked leases.
   *
   * @param timeout the drain's limit
   * @return this builder
   */
  public LoadBalancerBuilder removalDrainTimeout(Duration timeout) {
    this.removalDrainTimeout = nonNegative(timeout, "removalDrainTimeout");
    return this;
  }

  /**
   * How long the sessions pinned to a draining endpoint (see {@link LoadBalancer#acquirePinned})
   * must start no request before its drain counts as settled. Default 5 s: pinned clients (a
   * browser, a multi-step API flow) pause between requests for about as long as a person reads, so
   * 5 s keeps one interaction on its endpoint without holding a drain open for clients that moved
   * on. The drain's own timeout still bounds it. Zero: sessions only finish requests already in
   * flight when the endpoint goes idle.
   *
   * @param period the quiet period
   * @return this builder
   */
  public LoadBalancerBuilder drainSessionQuietPeriod(Duration period) {
    this.drainSessionQuietPeriod = nonNegative(period, "drainSessionQuietPeriod");
    return this;
  }

  /**
   * The peak-EWMA decay time constant. Default 10 s, as Finagle and Linkerd.
   *
   * @param decay the peak-EWMA decay time constant
   * @return this builder
   */
  public LoadBalancerBuilder ewmaDecay(Duration decay) {
    if (requireNonNull(decay, "ewmaDecay").isZero() || decay.isNegative()) {
      throw new IllegalArgumentException("ewmaDecay must be positive, was " + decay);
    }
    this.ewmaDecay = set("ewmaDecay", decay);
    return this;
  }

  /**
   * The EWMA latency assumed before the first sample. Default 30 ms, as Finagle and Linkerd.
   *
   * @param rtt the EWMA latency assumed before the first sample
   * @return this builder
   */
  public LoadBalancerBuilder ewmaDefaultRtt(Duration rtt) {
    this.ewmaDefaultRtt = nonNegative(rtt, "ewmaDefaultRtt");
    return this;
  }

  /**
   * Bounded-load factor for {@code ring-hash} and {@code maglev}, in percent, as HAProxy's {@code
   * hash-balance-factor}: with 150, no endpoint takes more than 1.5 x its weighted share of the
   * in-flight requests; a key whose endpoint is full walks on to the next candidate. 0 (the
   * default, as Envoy and HAProxy) is off; 125 to 200 is the recommended range.
   *
   * @param percent the factor in percent, 0 or above 100
   * @return this builder
   * @throws IllegalArgumentException unless 0 or above 100
   */
  public LoadBalancerBuilder hashBalanceFactor(int percent) {
    if (percent != 0 && percent <= 100) {
      throw new IllegalArgumentException(
          "hashBalanceFactor must be 0 (off) or above 100, was " + percent);
    }
    this.hashBalanceFactor = set("hashBalanceFactor", percent);
    return this;
  }

  /**
   * Target ring points per endpoint of mean weight for {@code ring-hash}. Default 500: a share's
   * spread is about 1/sqrt(points), so 500 gives about 4.5%.
   *
   * @param points target ring points per endpoint of mean weight for {@code ring-hash}
   * @return this builder
   */
  public LoadBalancerBuilder ringPointsPerEndpoint(int points) {
    this.ringPointsPerEndpoint = inRange(points, 1, Integer.MAX_VALUE, "ringPointsPerEndpoint");
    return this;
  }

  /**
   * Bounds on the ring's total points. Defaults 1,024 (Envoy's minimum) and 1,048,576 (at most 8
   * MiB of ring plus 8 MiB of index; Envoy allows 8M).
   *
   * @param min the fewest points on the ring
   * @param max the most points on the ring
   * @return this builder
   */
  public LoadBalancerBuilder ringSize(int min, int max) {
    if (min < 1 || max < min) {
      throw new IllegalArgumentException(
          "ringSize needs 1 <= min <= max, was min=" + min + " max=" + max);
    }
    this.minRingSize = set("ringSize", min);
    this.maxRingSize = max;
    return this;
  }

  /**
   * The smallest Maglev table. Default 65,537 (Envoy's). The table is the first prime at or above
   * the larger of this and 100 x endpoints, the paper's rule for near-perfect balance.
   *
   * @param size the smallest Maglev table
   * @return this builder
   */
  public LoadBalancerBuilder maglevMinTableSize(int size) {
    this.maglevMinTableSize = inRange(size, 1, Integer.MAX_VALUE, "maglevMinTableSize");
    return this;
  }

  /**
   * How many transitions the log keeps. Default 256.
   *
   * @param size how many transitions the log keeps
   * @return this builder
   */
  public LoadBalancerBuilder transitionLogSize(int size) {
    this.transitionLogSize = inRange(size, 1, Integer.MAX_VALUE, "transitionLogSize");
    return this;
  }

  /**
   * The time source. Default {@link Ticker#system()}; tests pass a fake.
   *
   * @param ticker the time source
   * @return this builder
   */
  public LoadBalancerBuilder ticker(Ticker ticker) {
    this.ticker = set("ticker", ticker);
    return this;
  }

  /**
   * The wall clock for timestamps people read. Default UTC system clock.
   *
   * @param clock the wall clock for timestamps people read
   * @return this builder
   */
  public LoadBalancerBuilder clock(Clock clock) {
    this.clock = set("clock", clock);
    return this;
  }

  /**
   * The random source of random, p2c and keyless hash picks, and of round-robin's start offset.
   * Must be thread-safe. Default {@link ThreadLocalRandom}; tests pass a seeded one.
   *
   * @param random the random source
   * @return this builder
   */
  public LoadBalancerBuilder randomSource(LongSupplier random) {
    this.random = set("randomSource", random);
    return this;
  }

  /**
   * Where timers run (probe rounds, ejection expiry, drain deadlines, slow-start steps). Default:
   * one daemon thread per balancer, started on first use. Tests pass a scheduler driven by their
   * fake ticker.
   *
   * @param scheduler the timer scheduler
   * @return this builder
   */
  public LoadBalancerBuilder scheduler(Scheduler scheduler) {
    this.scheduler = set("scheduler", scheduler);
    return this;
  }

  /**
   * Active health checks. Default none: endpoints are healthy until passive signals say not.
   *
   * @param healthCheck active health checks
   * @return this builder
   */
  public LoadBalancerBuilder healthCheck(HealthCheck healthCheck) {
    this.healthCheck = set("healthCheck", healthCheck);
    return this;
  }

  /**
   * Passive outlier detection with per-endpoint circuit breakers. Default none; {@link
   * OutlierDetection#defaults()} gives Envoy's and gRPC's settings.
   *
   * @param outlierDetection passive outlier detection with per-endpoint circuit breakers
   * @return this builder
   */
  public LoadBalancerBuilder outlierDetection(OutlierDetection outlierDetection) {
    this.outlierDetection = set("outlierDetection", outlierDetection);
    return this;
  }

  /**
   * Slow start for joining and recovering endpoints. Default none, as Envoy and HAProxy.
   *
   * @param slowStart slow start for joining and recovering endpoints
   * @return this builder
   */
  public LoadBalancerBuilder slowStart(SlowStart slowStart) {
    this.slowStart = set("slowStart", slowStart);
    return this;
  }

  /**
   * Panic threshold in percent: below this share of healthy endpoints (among those not drained or
   * in maintenance), traffic spreads over all of them. Default 50 (Envoy's); 0 disables panic.
   *
   * @param percent the threshold in percent, 0..100
   * @return this builder
   */
  public LoadBalancerBuilder panicThreshold(int percent) {
    this.panicThreshold = inRange(percent, 0, 100, "panicThreshold");
    return this;
  }

  /**
   * The zone this process runs in; endpoints of this zone are preferred while at least {@code
   * minHealthyPercent} of them are routable (cross-zone traffic costs money on AWS), else traffic
   * spills over to every zone. Default: no zone, zone-aware routing off. 70% keeps a zone that lost
   * one of three endpoints local only if it had at least four.
   *
   * @param zone this process's zone, as endpoints name theirs
   * @param minHealthyPercent the share of the local zone that must be routable to stay local,
   *     1..100
   * @return this builder
   */
  public LoadBalancerBuilder localZone(String zone, int minHealthyPercent) {
    requireNonNull(zone, "zone");
    check(minHealthyPercent, 1, 100, "localZone minHealthyPercent");
    this.localZone = set("localZone", zone);
    this.localZoneMinHealthyPercent = minHealthyPercent;
    return this;
  }

  /**
   * The longest Retry-After penalty honoured. Default 30 s (the base ejection time): an upstream
   * may ask for a pause, not take itself out of rotation for an hour.
   *
   * @param maxPenalty the longest Retry-After penalty honoured
   * @return this builder
   */
  public LoadBalancerBuilder maxPenalty(Duration maxPenalty) {
    this.maxPenalty = nonNegative(maxPenalty, "maxPenalty");
    return this;
  }

  /**
   * The balancer's retry budget, shared by all its retry executors: retries in flight at most
   * {@code max(minPerSecond, percent% x requests in flight)} (Envoy's), and a rate of {@code
   * percent}% of requests with no credit saved beyond one retry, plus {@code minPerSecond x window}
   * in any sliding {@code window}. Defaults 20%, 10/s, 1 s. Since 0.2 the window (was 10 s,
   * counting requests too) bounds only that reserve: credit saved in healthy times went in one
   * burst.
   *
   * @param percent retries allowed, in percent of requests (in flight, and as they come)
   * @param minPerSecond retries allowed per second on top, and always allowed in flight at once, so
   *     a quiet service can retry
   * @param window the reserve's sliding window, 1 s..1 h
   * @return this builder
   */
  public LoadBalancerBuilder retryBudget(int percent, int minPerSecond, Duration window) {
    check(percent, 0, Integer.MAX_VALUE, "retryBudget percent");
    check(minPerSecond, 0, Integer.MAX_VALUE, "retryBudget minPerSecond");
    long seconds = requireNonNull(window, "window").toSeconds();
    if (seconds < 1 || seconds > 3600) {
      throw new IllegalArgumentException("retryBudget window must be 1 s..1 h, was " + window);
    }
    this.retryBudgetPercent = set("retryBudget", percent);
    this.retryBudgetMinPerSecond = minPerSecond;
    this.retryBudgetWindow = window;
    return this;
  }

  /**
   * Adds a listener present from the first endpoint set on.
   *
   * @param listener the listener
   * @return this builder
   */
  public LoadBalancerBuilder listener(BalancerListener listener) {
    listeners.add(requireNonNull(listener, "listener"));
    return this;
  }

  /**
   * Freezes the settings and starts a balancer with them; a source that knows its set (a static one
   * does) has delivered it before this returns.
   *
   * @return the running balancer; close it to stop its timers and source
   * @throws IllegalStateException when neither or both of {@code endpoints} and {@code source} are
   *     set
   */
  public LoadBalancer build() {
    if ((endpoints == null) == (source == null)) {
      throw new IllegalStateException(
          endpoints == null
              ? "set endpoints(...) or source(...)"
              : "set endpoints(...) or source(...), not both");
    }
    return LoadBalancer.start(LoadBalancerConfig.freeze(this));
  }

  /** Set-once: a second call of a setter is a mistake the caller should hear about. */
  private void once(String setting) {
    if (!set.add(setting)) {
      throw new IllegalStateException(setting + " was already set");
    }
  }

  /** A valid value of a setting not set before. */
  private <V> V set(String setting, V value) {
    requireNonNull(value, setting);
    once(setting);
    return value;
  }

  private int inRange(int value, int min, int max, String setting) {
    return set(setting, check(value, min, max, setting));
  }

  private static int check(int value, int min, int max, String setting) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          setting
              + (max == Integer.MAX_VALUE
                  ? " must be at least " + min
                  : " must be in " + min + ".." + max)
              + ", was "
              + value);
    }
    return value;
  }

  private Duration nonNegative(Duration d, String setting) {
    if (requireNonNull(d, setting).isNegative()) {
      throw new IllegalArgumentException(setting + " must not be negative, was " + d);
    }
    set(setting, d);
    return d;
  }
}
