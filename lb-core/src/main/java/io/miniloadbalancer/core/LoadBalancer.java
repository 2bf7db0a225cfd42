package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.internal.ControlContext;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.internal.Picker;
import io.miniloadbalancer.core.internal.RoutingTable;
import io.miniloadbalancer.core.internal.StrategyConfig;
import io.miniloadbalancer.core.internal.StrategyRegistry;
import io.miniloadbalancer.core.internal.TransitionLog;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.EndpointSource;
import io.miniloadbalancer.core.spi.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client-side load balancer over one pool of endpoints.
 *
 * <pre>{@code
 * LoadBalancer balancer = LoadBalancer.builder()
 *     .name("orders")
 *     .endpoints(Endpoint.of("a", "10.0.0.7", 8080), Endpoint.of("b", "10.0.0.8", 8080))
 *     .strategy(Strategies.P2C_EWMA)
 *     .build();
 * try (Lease lease = balancer.acquire(RequestContext.none())) {
 *   call(lease.endpoint());
 *   lease.success();
 * }
 * }</pre>
 *
 * <h2>Threading</h2>
 *
 * <p>The data path ({@link #acquire}, and completing a {@link Lease}) is lock-free and
 * allocation-free apart from the lease itself: it reads one immutable routing table through one
 * volatile load and updates a few per-endpoint counters. Everything that changes state (endpoint
 * updates from the source, removals, strategy switches) runs on a control context, in order, and
 * ends by publishing a new table; listeners run after that. Every method is thread-safe.
 *
 * <h2>Endpoint lifecycle</h2>
 *
 * <p>An endpoint its source adds starts {@link EndpointState#HEALTHY} and takes traffic at once. An
 * endpoint its source removes becomes {@link EndpointState#DRAINING}: no new requests, its open
 * leases finish, then it is {@link EndpointState#REMOVED}; if leases are still open after {@link
 * Builder#removalDrainTimeout}, it is removed anyway and the transition says how many were open.
 * Every change of state is a {@link Transition} with a reason, kept in a bounded log.
 */
public final class LoadBalancer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LoadBalancer.class);

  /** Picks retried when a racing control change took the picked endpoint out of rotation. */
  private static final int MAX_PICK_ATTEMPTS = 3;

  private final String name;
  private final Ticker ticker;
  private final Clock clock;
  private final long minSwitchIntervalNanos;
  private final long removalDrainTimeoutNanos;
  private final double ewmaTauNanos;
  private final long ewmaDefaultRttNanos;
  private final StrategyConfig strategyConfig;
  private final LongAdder totalInFlight = new LongAdder();
  private final EndpointSource source;
  private final ControlContext control;
  private final TransitionLog transitions;
  private final List<BalancerListener> listeners;
  private @Nullable ScheduledExecutorService timer;

  private volatile RoutingTable table;
  private volatile @Nullable StrategySwitch lastSwitch;

  // Owned by the control context.
  private final Map<String, EndpointRuntime> pool = new LinkedHashMap<>();
  private final Map<String, ScheduledFuture<?>> removalDeadlines = new HashMap<>();
  private String strategy;
  private boolean hasSwitched;
  private long lastSwitchNanos;
  private boolean closed;

  private LoadBalancer(Builder b, EndpointSource source) {
    this.name = b.name;
    this.ticker = b.ticker;
    this.clock = b.clock;
    this.minSwitchIntervalNanos = b.minSwitchInterval.toNanos();
    this.removalDrainTimeoutNanos = b.removalDrainTimeout.toNanos();
    this.ewmaTauNanos = b.ewmaDecay.toNanos();
    this.ewmaDefaultRttNanos = b.ewmaDefaultRtt.toNanos();
    this.strategyConfig =
        new StrategyConfig(
            b.random,
            totalInFlight,
            b.hashBalanceFactor,
            b.ringPointsPerEndpoint,
            b.minRingSize,
            b.maxRingSize,
            b.maglevMinTableSize);
    this.source = source;
    this.control = new ControlContext(name);
    this.transitions = new TransitionLog(b.transitionLogSize);
    this.listeners = new CopyOnWriteArrayList<>(b.listeners);
    this.strategy = b.strategy;
    this.table = emptyTable(b.strategy);
  }

  /** A builder with every default; see each setting for its value and why. */
  public static Builder builder() {
    return new Builder();
  }

  // ---- data path -------------------------------------------------------------------------------

  /**
   * Chooses an endpoint for a new request and opens a lease on it.
   *
   * @param context the request's hash key, if any ({@link RequestContext#none()} otherwise)
   * @return an open lease; the caller must complete or close it
   * @throws NoEndpointAvailableException when no endpoint may take a new request (shared,
   *     stackless; its message summarizes the pool)
   */
  public Lease acquire(RequestContext context) {
    long now = ticker.read();
    RoutingTable t = table;
    for (int attempt = 0; attempt < MAX_PICK_ATTEMPTS; attempt++) {
      Picker picker = t.picker();
      EndpointRuntime endpoint = picker.pick(context, now);
      if (endpoint == null) {
        break;
      }
      if (endpoint.tryStartLease()) {
        boolean counted = picker.readsTotalInFlight();
        if (counted) {
          totalInFlight.increment();
        }
        return new Lease(this, endpoint, now, counted);
      }
      // The control context took this endpoint out after we read the table: read the new one.
      t = table;
    }
    throw t.noEndpoint();
  }

  long nanoTime() {
    return ticker.read();
  }

  void leaseEndedInTotal() {
    totalInFlight.decrement();
  }

  // ---- control operations ----------------------------------------------------------------------

  /** Same as {@link #switchStrategy(String, String)} with the reason {@code "api"}. */
  public CompletableFuture<BalancerSnapshot> switchStrategy(String strategy) {
    return switchStrategy(strategy, "api");
  }

  /**
   * Switches strategy at runtime. Atomic for callers: each pick uses the old table or the new one,
   * never a mix; open leases and in-flight counts are untouched. Switching to the current strategy
   * is a no-op (no event). Listeners hear of the switch after it is published.
   *
   * @param reason who or what asked (kept in the event, the snapshot and the logs)
   * @return completes with the snapshot after the switch, or exceptionally with {@link
   *     StrategySwitchRejectedException} when the minimum interval since the last switch has not
   *     passed or the balancer is closed
   * @throws IllegalArgumentException when {@code strategy} is unknown (the message lists the valid
   *     names)
   */
  public CompletableFuture<BalancerSnapshot> switchStrategy(String strategy, String reason) {
    Strategies.requireKnown(requireNonNull(strategy, "strategy"));
    requireNonNull(reason, "reason");
    CompletableFuture<BalancerSnapshot> result = new CompletableFuture<>();
    control.execute(() -> applySwitch(strategy, reason, result));
    return result;
  }

  private void applySwitch(String to, String reason, CompletableFuture<BalancerSnapshot> result) {
    if (closed) {
      result.completeExceptionally(
          new StrategySwitchRejectedException("balancer '" + name + "' is closed"));
      return;
    }
    if (to.equals(strategy)) {
      result.complete(snapshot());
      return;
    }
    long now = ticker.read();
    long sinceLast = now - lastSwitchNanos;
    if (hasSwitched && sinceLast < minSwitchIntervalNanos) {
      result.completeExceptionally(
          new StrategySwitchRejectedException(
              String.format(
                  "switch of pool '%s' to '%s' refused: the last switch was %d ms ago and"
                      + " minSwitchInterval is %d ms; retry in %d ms",
                  name,
                  to,
                  TimeUnit.NANOSECONDS.toMillis(sinceLast),
                  TimeUnit.NANOSECONDS.toMillis(minSwitchIntervalNanos),
                  TimeUnit.NANOSECONDS.toMillis(minSwitchIntervalNanos - sinceLast))));
      return;
    }
    String from = strategy;
    strategy = to;
    hasSwitched = true;
    lastSwitchNanos = now;
    publish();
    StrategySwitch event = new StrategySwitch(from, to, reason, now, clock.instant());
    lastSwitch = event;
    LOG.info("pool '{}': strategy {} -> {} ({})", name, from, to, reason);
    result.complete(snapshot());
    for (BalancerListener listener : listeners) {
      try {
        listener.onStrategySwitch(event);
      } catch (RuntimeException e) {
        LOG.warn("pool '{}': listener {} failed on a strategy switch", name, listener, e);
      }
    }
  }

  /** Adds a listener; it hears of transitions and switches from now on. */
  public void addListener(BalancerListener listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  /** Removes a listener. */
  public void removeListener(BalancerListener listener) {
    listeners.remove(listener);
  }

  // ---- endpoint set ----------------------------------------------------------------------------

  private void onEndpoints(List<Endpoint> endpoints) {
    List<Endpoint> copy = List.copyOf(endpoints);
    control.execute(() -> applyEndpoints(copy));
  }

  private void applyEndpoints(List<Endpoint> endpoints) {
    if (closed) {
      return;
    }
    Map<String, Endpoint> next = new LinkedHashMap<>();
    for (Endpoint e : endpoints) {
      if (next.put(e.id(), e) != null) {
        LOG.warn(
            "pool '{}': rejected an endpoint set with duplicate id '{}'; keeping the last good set"
                + " of {} endpoints",
            name,
            e.id(),
            pool.size());
        return;
      }
    }
    long now = ticker.read();
    List<Transition> fired = new ArrayList<>();
    boolean changed = false;
    for (Endpoint e : next.values()) {
      EndpointRuntime r = pool.get(e.id());
      if (r == null) {
        r =
            new EndpointRuntime(
                e, EndpointState.HEALTHY, ewmaTauNanos, ewmaDefaultRttNanos, now, this::onIdle);
        pool.put(e.id(), r);
        fired.add(transition(r, null, EndpointState.HEALTHY, "added by source", now));
        changed = true;
        continue;
      }
      if (!r.endpoint().equals(e)) {
        LOG.debug("pool '{}': endpoint {} updated to {}", name, e.id(), e);
        r.endpoint(e);
        changed = true;
      }
      ScheduledFuture<?> deadline = removalDeadlines.remove(e.id());
      if (deadline != null) {
        deadline.cancel(false);
        r.awaitIdle(false);
        fired.add(
            transition(r, r.state(), EndpointState.HEALTHY, "re-added by source while draining", now));
        changed = true;
      }
    }
    for (EndpointRuntime r : List.copyOf(pool.values())) {
      if (!next.containsKey(r.id()) && !removalDeadlines.containsKey(r.id())) {
        r.awaitIdle(true);
        fired.add(
            transition(
                r,
                r.state(),
                EndpointState.DRAINING,
                "removed by source; draining " + r.inFlight() + " in-flight",
                now));
        removalDeadlines.put(r.id(), scheduleRemovalDeadline(r));
        changed = true;
      }
    }
    if (changed) {
      publish();
    }
    notifyTransitions(fired);
    removeIdleDrained();
  }

  private ScheduledFuture<?> scheduleRemovalDeadline(EndpointRuntime r) {
    return timer().schedule(
        () -> control.execute(() -> onRemovalDeadline(r)),
        removalDrainTimeoutNanos,
        TimeUnit.NANOSECONDS);
  }

  // Created on first use: most balancers never remove an endpoint and need no thread.
  private ScheduledExecutorService timer() {
    ScheduledExecutorService t = timer;
    if (t == null) {
      t =
          Executors.newSingleThreadScheduledExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "lb-" + name + "-timer");
                thread.setDaemon(true);
                return thread;
              });
      timer = t;
    }
    return t;
  }

  private void onRemovalDeadline(EndpointRuntime r) {
    if (pool.get(r.id()) == r && removalDeadlines.containsKey(r.id())) {
      finishRemoval(
          r,
          "drain timeout after "
              + TimeUnit.NANOSECONDS.toMillis(removalDrainTimeoutNanos)
              + " ms with "
              + r.inFlight()
              + " still in flight");
    }
  }

  /** Data path: the last lease on an endpoint we wait for ended. Hands off, never blocks. */
  private void onIdle(EndpointRuntime r) {
    control.execute(this::removeIdleDrained);
  }

  // Runs after publish(): routable flags are already cleared, so an in-flight count of 0 read here
  // cannot be followed by a new lease (see EndpointRuntime).
  private void removeIdleDrained() {
    for (String id : List.copyOf(removalDeadlines.keySet())) {
      EndpointRuntime r = pool.get(id);
      if (r != null && r.inFlight() == 0) {
        finishRemoval(r, "drained; no request in flight");
      }
    }
  }

  private void finishRemoval(EndpointRuntime r, String reason) {
    ScheduledFuture<?> deadline = removalDeadlines.remove(r.id());
    if (deadline != null) {
      deadline.cancel(false);
    }
    pool.remove(r.id());
    r.awaitIdle(false);
    Transition t = transition(r, r.state(), EndpointState.REMOVED, reason, ticker.read());
    publish();
    notifyTransitions(List.of(t));
  }

  private Transition transition(
      EndpointRuntime r, @Nullable EndpointState from, EndpointState to, String reason, long now) {
    Transition t = new Transition(r.id(), from, to, reason, now, clock.instant());
    r.transition(t);
    transitions.add(t);
    LOG.info("pool '{}': endpoint {} {} -> {} ({})", name, r.id(), from, to, reason);
    return t;
  }

  private void notifyTransitions(List<Transition> fired) {
    for (Transition t : fired) {
      for (BalancerListener listener : listeners) {
        try {
          listener.onTransition(t);
        } catch (RuntimeException e) {
          LOG.warn("pool '{}': listener {} failed on a transition", name, listener, e);
        }
      }
    }
  }

  /**
   * Builds and publishes the routing table for the current pool and strategy. Ordering matters:
   * endpoints entering rotation are flagged routable before the table is published, endpoints
   * leaving are flagged after, so a data-path thread that re-checks the flag never starts a lease
   * on an endpoint that left (see EndpointRuntime).
   */
  private void publish() {
    List<EndpointRuntime> routable = new ArrayList<>();
    for (EndpointRuntime r : pool.values()) {
      if (r.state().acceptsNewRequests()) {
        routable.add(r);
      }
    }
    EndpointRuntime[] routableArray = routable.toArray(new EndpointRuntime[0]);
    double[] weights = new double[routableArray.length];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = routableArray[i].endpoint().weight();
    }
    EndpointRuntime[] members = pool.values().toArray(new EndpointRuntime[0]);
    Picker picker = StrategyRegistry.create(strategy, routableArray, weights, strategyConfig);
    RoutingTable previous = table;
    RoutingTable next =
        new RoutingTable(strategy, picker, routableArray, weights, members, noEndpoint(members));
    Set<EndpointRuntime> entering = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    entering.addAll(routable);
    for (EndpointRuntime r : routableArray) {
      r.routable(true);
    }
    table = next;
    for (EndpointRuntime r : previous.routable()) {
      if (!entering.contains(r)) {
        r.routable(false);
      }
    }
  }

  private NoEndpointAvailableException noEndpoint(EndpointRuntime[] members) {
    if (members.length == 0) {
      return new NoEndpointAvailableException("no routable endpoint in pool '" + name + "': empty");
    }
    Map<EndpointState, Integer> counts = new EnumMap<>(EndpointState.class);
    for (EndpointRuntime r : members) {
      counts.merge(r.state(), 1, Integer::sum);
    }
    StringBuilder sb = new StringBuilder();
    counts.forEach((state, n) -> sb.append(sb.length() == 0 ? "" : ", ").append(n).append(' ')
        .append(state));
    return new NoEndpointAvailableException(
        "no routable endpoint in pool '"
            + name
            + "': "
            + members.length
            + " endpoint"
            + (members.length == 1 ? "" : "s")
            + ": "
            + sb);
  }

  private RoutingTable emptyTable(String strategyName) {
    EndpointRuntime[] none = new EndpointRuntime[0];
    return new RoutingTable(strategyName, Picker.EMPTY, none, new double[0], none, noEndpoint(none));
  }

  // ---- introspection ---------------------------------------------------------------------------

  /** The pool's name. */
  public String name() {
    return name;
  }

  /** The current strategy's name. */
  public String strategy() {
    return table.strategy();
  }

  /**
   * An immutable picture of the balancer now: strategy, every endpoint with its state, weights,
   * counters and last transition, and the transition log. Safe from any thread; it does not stop
   * traffic.
   */
  public BalancerSnapshot snapshot() {
    RoutingTable t = table;
    long now = ticker.read();
    Map<EndpointRuntime, Double> effective = new IdentityHashMap<>();
    for (int i = 0; i < t.routable().length; i++) {
      effective.put(t.routable()[i], t.weights()[i]);
    }
    List<EndpointSnapshot> endpoints = new ArrayList<>(t.members().length);
    for (EndpointRuntime r : t.members()) {
      Endpoint e = r.endpoint();
      endpoints.add(
          new EndpointSnapshot(
              e,
              r.state(),
              r.routable(),
              e.weight(),
              effective.getOrDefault(r, 0.0),
              r.inFlight(),
              r.ewmaNanosAt(now) / 1e6,
              r.successes(),
              r.failures(),
              r.cancellations(),
              r.lastTransition()));
    }
    return new BalancerSnapshot(
        name, t.strategy(), lastSwitch, endpoints, transitions.toList(), now, clock.instant());
  }

  /**
   * Stops the endpoint source and the balancer's timer. Leases already open can still be completed;
   * strategy switches are refused from now on.
   */
  @Override
  public void close() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    control.execute(
        () -> {
          if (!closed) {
            closed = true;
            removalDeadlines.values().forEach(f -> f.cancel(false));
            if (timer != null) {
              timer.shutdownNow();
            }
            try {
              source.close();
            } catch (RuntimeException e) {
              LOG.warn("pool '{}': endpoint source failed to close", name, e);
            }
          }
          done.complete(null);
        });
    done.join();
  }

  @Override
  public String toString() {
    RoutingTable t = table;
    return "LoadBalancer[" + name + ", " + t.strategy() + ", " + t.routable().length + "/"
        + t.members().length + " routable]";
  }

  // ---- builder ---------------------------------------------------------------------------------

  /**
   * Configures a {@link LoadBalancer}. Set-once style: {@link #build()} validates and copies, so a
   * builder can be reused. Not thread-safe.
   */
  public static final class Builder {

    private String name = "default";
    private @Nullable Collection<Endpoint> endpoints;
    private @Nullable EndpointSource source;
    private String strategy = Strategies.ROUND_ROBIN;
    private Duration minSwitchInterval = Duration.ofSeconds(10);
    private Duration removalDrainTimeout = Duration.ofSeconds(30);
    private Duration ewmaDecay = Duration.ofSeconds(10);
    private Duration ewmaDefaultRtt = Duration.ofMillis(30);
    private int hashBalanceFactor;
    private int ringPointsPerEndpoint = 500;
    private int minRingSize = 1024;
    private int maxRingSize = 1 << 20;
    private int maglevMinTableSize = 65_537;
    private int transitionLogSize = 256;
    private Ticker ticker = Ticker.system();
    private Clock clock = Clock.systemUTC();
    private LongSupplier random = () -> ThreadLocalRandom.current().nextLong();
    private final List<BalancerListener> listeners = new ArrayList<>();

    private Builder() {}

    /** The pool's name, used in logs, errors, snapshots and metric tags. Default {@code default}. */
    public Builder name(String name) {
      requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank");
      }
      this.name = name;
      return this;
    }

    /** A fixed set of endpoints (a {@link StaticEndpointSource}). Excludes {@link #source}. */
    public Builder endpoints(Collection<Endpoint> endpoints) {
      this.endpoints = List.copyOf(requireNonNull(endpoints, "endpoints"));
      return this;
    }

    /** A fixed set of endpoints (a {@link StaticEndpointSource}). Excludes {@link #source}. */
    public Builder endpoints(Endpoint... endpoints) {
      return endpoints(Arrays.asList(endpoints));
    }

    /** Where endpoints come from (Consul, an admin plane, a {@link StaticEndpointSource}). */
    public Builder source(EndpointSource source) {
      this.source = requireNonNull(source, "source");
      return this;
    }

    /**
     * The strategy at start, one of {@link Strategies#names()}. Default {@code round-robin}: the
     * default of Envoy, gRPC and Spring Cloud LoadBalancer, and the most predictable; prefer {@code
     * p2c-ewma} when backends differ in speed.
     *
     * @throws IllegalArgumentException naming the valid strategies, when unknown
     */
    public Builder strategy(String strategy) {
      this.strategy = Strategies.requireKnown(requireNonNull(strategy, "strategy"));
      return this;
    }

    /**
     * The minimum time between two strategy switches. Default 10 s: a switch resets hash affinity
     * and EWMA learning, and 10 s is the EWMA's decay time, so a faster toggle (an operator's
     * double click, a flapping automation) cannot thrash routing.
     */
    public Builder minSwitchInterval(Duration interval) {
      this.minSwitchInterval = nonNegative(interval, "minSwitchInterval");
      return this;
    }

    /**
     * How long an endpoint removed by its source may drain before it is dropped with leases still
     * open. Default 30 s: longer than any sane request, shorter than ALB's 300 s deregistration
     * delay, so the pool cannot fill with ghosts from leaked leases.
     */
    public Builder removalDrainTimeout(Duration timeout) {
      this.removalDrainTimeout = nonNegative(timeout, "removalDrainTimeout");
      return this;
    }

    /** The peak-EWMA decay time constant. Default 10 s, as Finagle and Linkerd. */
    public Builder ewmaDecay(Duration decay) {
      if (decay.isZero() || decay.isNegative()) {
        throw new IllegalArgumentException("ewmaDecay must be positive, was " + decay);
      }
      this.ewmaDecay = decay;
      return this;
    }

    /** The EWMA latency assumed before the first sample. Default 30 ms, as Finagle and Linkerd. */
    public Builder ewmaDefaultRtt(Duration rtt) {
      this.ewmaDefaultRtt = nonNegative(rtt, "ewmaDefaultRtt");
      return this;
    }

    /**
     * Bounded-load factor for {@code ring-hash} and {@code maglev}, in percent, as HAProxy's {@code
     * hash-balance-factor}: with 150, no endpoint takes more than 1.5 x its weighted share of the
     * in-flight requests; a key whose endpoint is full walks on to the next candidate. 0 (the
     * default, as Envoy and HAProxy) is off; 125 to 200 is the recommended range.
     *
     * @throws IllegalArgumentException unless 0 or above 100
     */
    public Builder hashBalanceFactor(int percent) {
      if (percent != 0 && percent <= 100) {
        throw new IllegalArgumentException(
            "hashBalanceFactor must be 0 (off) or above 100, was " + percent);
      }
      this.hashBalanceFactor = percent;
      return this;
    }

    /**
     * Target ring points per endpoint of mean weight for {@code ring-hash}. Default 500: a share's
     * spread is about 1/sqrt(points), so 500 gives about 4.5%.
     */
    public Builder ringPointsPerEndpoint(int points) {
      if (points < 1) {
        throw new IllegalArgumentException("ringPointsPerEndpoint must be positive, was " + points);
      }
      this.ringPointsPerEndpoint = points;
      return this;
    }

    /**
     * Bounds on the ring's total points. Defaults 1,024 (Envoy's minimum) and 1,048,576 (at most 8
     * MiB of ring plus 8 MiB of index; Envoy allows 8M).
     */
    public Builder ringSize(int min, int max) {
      if (min < 1 || max < min) {
        throw new IllegalArgumentException(
            "ringSize needs 1 <= min <= max, was min=" + min + " max=" + max);
      }
      this.minRingSize = min;
      this.maxRingSize = max;
      return this;
    }

    /**
     * The smallest Maglev table. Default 65,537 (Envoy's). The table is the first prime at or above
     * the larger of this and 100 x endpoints, the paper's rule for near-perfect balance.
     */
    public Builder maglevMinTableSize(int size) {
      if (size < 1) {
        throw new IllegalArgumentException("maglevMinTableSize must be positive, was " + size);
      }
      this.maglevMinTableSize = size;
      return this;
    }

    /** How many transitions the log keeps. Default 256. */
    public Builder transitionLogSize(int size) {
      if (size < 1) {
        throw new IllegalArgumentException("transitionLogSize must be at least 1, was " + size);
      }
      this.transitionLogSize = size;
      return this;
    }

    /** The time source. Default {@link Ticker#system()}; tests pass a fake. */
    public Builder ticker(Ticker ticker) {
      this.ticker = requireNonNull(ticker, "ticker");
      return this;
    }

    /** The wall clock for timestamps people read. Default UTC system clock. */
    public Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The random source of random, p2c and keyless hash picks, and of round-robin's start offset.
     * Must be thread-safe. Default {@link ThreadLocalRandom}; tests pass a seeded one.
     */
    public Builder randomSource(LongSupplier random) {
      this.random = requireNonNull(random, "random");
      return this;
    }

    /** Adds a listener present from the first endpoint set on. */
    public Builder listener(BalancerListener listener) {
      listeners.add(requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Builds the balancer and starts its source; a source that knows its set (a static one does)
     * has delivered it before this returns.
     *
     * @throws IllegalStateException when neither or both of {@code endpoints} and {@code source}
     *     are set
     */
    public LoadBalancer build() {
      if ((endpoints == null) == (source == null)) {
        throw new IllegalStateException(
            endpoints == null
                ? "set endpoints(...) or source(...)"
                : "set endpoints(...) or source(...), not both");
      }
      EndpointSource s = source != null ? source : new StaticEndpointSource(endpoints);
      LoadBalancer balancer = new LoadBalancer(this, s);
      s.start(balancer::onEndpoints);
      return balancer;
    }

    private static Duration nonNegative(Duration d, String setting) {
      requireNonNull(d, setting);
      if (d.isNegative()) {
        throw new IllegalArgumentException(setting + " must not be negative, was " + d);
      }
      return d;
    }
  }
}
