package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.internal.PoolController;
import io.miniloadbalancer.core.internal.RetryBudget;
import io.miniloadbalancer.core.internal.SystemScheduler;
import io.miniloadbalancer.core.internal.strategy.StrategyRegistry;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.EndpointSource;
import io.miniloadbalancer.core.spi.LeaseObserver;
import io.miniloadbalancer.core.spi.Scheduler;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
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
 * <p>An endpoint its source adds starts {@link EndpointState#HEALTHY} and takes traffic at once
 * (unless {@link HealthCheck.Builder#newEndpointsWaitForProbe}). Active checks ({@link
 * LoadBalancerBuilder#healthCheck}) move it to {@link EndpointState#UNHEALTHY} and back with
 * rise/fall hysteresis; passive outlier detection ({@link LoadBalancerBuilder#outlierDetection})
 * ejects it for a while ({@link EndpointState#EJECTED}) with a half-open trial on return; an
 * operator drains it ({@link #drain}) or puts it in maintenance ({@link #maintenance}). An endpoint
 * its source removes becomes {@link EndpointState#DRAINING}: no new requests, its open leases
 * finish, then it is {@link EndpointState#REMOVED}; if leases are still open after {@link
 * LoadBalancerBuilder#removalDrainTimeout}, it is removed anyway and the transition says how many
 * were open. Every change of state is a {@link Transition} with a reason, kept in a bounded log.
 * Only {@code HEALTHY} endpoints take new requests, except in panic mode ({@link
 * LoadBalancerBuilder#panicThreshold}).
 */
public final class LoadBalancer implements AutoCloseable {

  private final PoolController controller;
  private final DataPath data;
  private final StrategyRegistry strategies;
  private final EndpointSource source;
  private final @Nullable SystemScheduler ownScheduler;
  private final List<BalancerListener> listeners;

  private LoadBalancer(
      PoolController controller,
      DataPath data,
      StrategyRegistry strategies,
      EndpointSource source,
      @Nullable SystemScheduler ownScheduler,
      List<BalancerListener> listeners) {
    this.controller = controller;
    this.data = data;
    this.strategies = strategies;
    this.source = source;
    this.ownScheduler = ownScheduler;
    this.listeners = listeners;
  }

  /**
   * A builder with every default; see each setting for its value and why.
   *
   * @return a new builder
   */
  public static LoadBalancerBuilder builder() {
    return new LoadBalancerBuilder();
  }

  /** Wires a balancer from frozen settings and starts its source. */
  static LoadBalancer start(LoadBalancerConfig c) {
    Scheduler given = c.scheduler();
    SystemScheduler own = given == null ? new SystemScheduler("lb-" + c.name() + "-timer") : null;
    LongAdder total = new LongAdder();
    RetryBudget budget = c.newRetryBudget();
    List<BalancerListener> shared = new CopyOnWriteArrayList<>(c.listeners());
    EndpointSource src = c.source();
    PoolController controller =
        new PoolController(
            c.controllerSettings(given != null ? given : own, total, budget),
            c.strategy(),
            shared,
            () -> LoadBalancerConfig.sourceSnapshot(src));
    DataPath data =
        new DataPath(controller, c.ticker(), c.random(), total, budget, c.maxPenalty().toNanos());
    LoadBalancer balancer = new LoadBalancer(controller, data, c.strategies(), src, own, shared);
    src.start(controller::onEndpoints);
    controller.start();
    return balancer;
  }

  /**
   * Chooses an endpoint for a new request and opens a lease on it.
   *
   * <p>The strategy's pick is taken unless the context excludes it (a retry's tried endpoints) or
   * it refuses the lease (it left rotation a moment ago, or it is half-open and its trial is full);
   * then the strategy is asked again (hash strategies offer the key's next candidate), and after a
   * few tries the routable endpoints are scanned from a random start.
   *
   * @param context the request's hash key and exclusions ({@link RequestContext#none()} for none)
   * @return an open lease; the caller must complete or close it
   * @throws NoEndpointAvailableException when no endpoint may take a new request (shared,
   *     stackless; its message summarizes the pool)
   */
  public Lease acquire(RequestContext context) {
    return data.acquire(context);
  }

  /**
   * Opens a lease on the endpoint a session is pinned to (a sticky cookie, an affinity table),
   * without asking the strategy: while the endpoint is {@link EndpointState#HEALTHY} and in
   * rotation, and also while it is {@link EndpointState#DRAINING} (and otherwise fit: up, not
   * ejected, not in maintenance) until its drain settles. That is the drain-aware transition: new
   * clients go elsewhere, pinned ones finish their work, and the drain settles once its sessions
   * have started no request for {@link LoadBalancerBuilder#drainSessionQuietPeriod} (or its timeout
   * ends it). A session lease never starts after the drain has settled.
   *
   * <p>Returns {@code null} when the endpoint is unknown, unhealthy or ejected (even when panic
   * mode spreads new requests over it), in maintenance, removed, out of rotation for another reason
   * (outside the preferred zone, paused by a Retry-After) or its drain has settled: the caller then
   * calls {@link #acquire} and re-pins the session to what it returns. Finds the endpoint by a scan
   * of the pool, without allocating.
   *
   * @param endpointId the pinned endpoint's id
   * @return an open lease on that endpoint, or {@code null}
   */
  public @Nullable Lease acquirePinned(String endpointId) {
    return data.acquirePinned(endpointId);
  }

  /**
   * Adds an observer of every lease's end (request metrics). It runs on the data path: see {@link
   * LeaseObserver} for what it must not do.
   *
   * @param observer the observer
   */
  public void addLeaseObserver(LeaseObserver observer) {
    data.addObserver(observer);
  }

  /**
   * Removes a lease observer.
   *
   * @param observer the observer
   */
  public void removeLeaseObserver(LeaseObserver observer) {
    data.removeObserver(observer);
  }

  /**
   * Retries the balancer's budget has granted so far (all its retry executors).
   *
   * @return retries granted so far
   */
  public long retriesGranted() {
    return data.retryBudget().granted();
  }

  /**
   * Retries the balancer's budget has refused so far: requests that ended budget-exhausted.
   *
   * @return retries refused so far
   */
  public long retriesRefused() {
    return data.retryBudget().refused();
  }

  /**
   * How many endpoints are in {@code state} now; cheap, for gauges.
   *
   * @param state the state to count
   * @return the count
   */
  public int endpointCount(EndpointState state) {
    return data.endpointCount(state);
  }

  /**
   * Open leases on the endpoint {@code id} now, or -1 when it is not in the pool; cheap, for
   * gauges.
   *
   * @param id the endpoint id
   * @return the open leases, or -1 when the endpoint is not in the pool
   */
  public int inFlight(String id) {
    return data.inFlight(id);
  }

  /**
   * Leases ended with {@code outcome} since the balancer started, over every endpoint that was ever
   * in the pool (monotonic, for counters). O(endpoints): for scrapes, not per request.
   *
   * @param outcome the outcome to count
   * @return the count
   */
  public long completed(Outcome outcome) {
    return controller.completed(requireNonNull(outcome, "outcome"));
  }

  /**
   * Whether panic mode is on now; cheap, for gauges.
   *
   * @return whether panic mode is on
   */
  public boolean isPanic() {
    return controller.isPanic();
  }

  /**
   * A retry executor over this balancer: bounded, idempotent-only, each attempt on an endpoint not
   * yet tried, sharing this balancer's retry budget with every other executor of it.
   *
   * @param policy how the executor retries (the budget is the balancer's, shared)
   * @return the executor
   */
  public RetryExecutor retries(RetryPolicy policy) {
    return new RetryExecutor(data, requireNonNull(policy, "policy"));
  }

  /**
   * Same as {@link #switchStrategy(String, String)} with the reason {@code "api"}.
   *
   * @param strategy the new strategy's name
   * @return see {@link #switchStrategy(String, String)}
   */
  public CompletableFuture<BalancerSnapshot> switchStrategy(String strategy) {
    return switchStrategy(strategy, "api");
  }

  /**
   * Switches strategy at runtime. Atomic for callers: each pick uses the old table or the new one,
   * never a mix; open leases and in-flight counts are untouched. Switching to the current strategy
   * is a no-op (no event). Listeners hear of the switch after it is published.
   *
   * @param reason who or what asked (kept in the event, the snapshot and the logs)
   * @param strategy the new strategy: one of {@link Strategies#names()} or a strategy added to this
   *     balancer's builder
   * @return completes with the snapshot after the switch, or exceptionally with {@link
   *     StrategySwitchRejectedException} when the minimum interval since the last switch has not
   *     passed or the balancer is closed
   * @throws IllegalArgumentException when {@code strategy} is unknown (the message lists the valid
   *     names)
   */
  public CompletableFuture<BalancerSnapshot> switchStrategy(String strategy, String reason) {
    strategies.requireKnown(requireNonNull(strategy, "strategy"));
    return controller.switchStrategy(strategy, requireNonNull(reason, "reason"));
  }

  /**
   * Drains an endpoint: no new requests from now on (hash keys that mapped to it move), its open
   * leases finish. The endpoint stays {@link EndpointState#DRAINING} until {@link #undrain}.
   *
   * @param endpointId the endpoint id
   * @param timeout how long to wait for its leases to end
   * @return completes when its in-flight count reaches zero, or when {@code timeout} passes (then
   *     the result says how many were still open); fails with {@link IllegalArgumentException} for
   *     an unknown id
   */
  public CompletableFuture<DrainResult> drain(String endpointId, Duration timeout) {
    requireNonNull(endpointId, "endpointId");
    return controller.drain(endpointId, requireNonNull(timeout, "timeout"));
  }

  /**
   * Returns a drained endpoint to rotation through the normal checks: it becomes whatever its
   * health says ({@code UNHEALTHY} if its probes failed meanwhile), ramping if slow start is on.
   *
   * @param endpointId the endpoint id
   * @return completes when applied; fails with {@link IllegalArgumentException} for an unknown id
   */
  public CompletableFuture<Void> undrain(String endpointId) {
    return controller.undrain(requireNonNull(endpointId, "endpointId"));
  }

  /**
   * Puts an endpoint in or out of maintenance ({@link EndpointState#MAINT}): held out of rotation
   * and not probed. Coming out, with health checks on, it must pass {@code rise} probes first.
   *
   * @param reason who or what asked (for example {@code "consul maintenance"})
   * @param endpointId the endpoint id
   * @param on true to enter maintenance, false to leave it
   * @return completes when applied; fails with {@link IllegalArgumentException} for an unknown id
   */
  public CompletableFuture<Void> maintenance(String endpointId, boolean on, String reason) {
    return controller.maintenance(
        requireNonNull(endpointId, "endpointId"), on, requireNonNull(reason, "reason"));
  }

  /**
   * Adds a listener; it hears of transitions, switches and pool events from now on. It runs after
   * each change is published; its exceptions are logged, not rethrown.
   *
   * @param listener the listener
   */
  public void addListener(BalancerListener listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  /**
   * Removes a listener.
   *
   * @param listener the listener
   */
  public void removeListener(BalancerListener listener) {
    listeners.remove(listener);
  }

  /**
   * The pool's name.
   *
   * @return the pool's name
   */
  public String name() {
    return controller.name();
  }

  /**
   * The current strategy's name.
   *
   * @return the current strategy's name
   */
  public String strategy() {
    return controller.table().strategy();
  }

  /**
   * An immutable picture of the balancer now: strategy, panic and zone mode, every endpoint with
   * its state, weights, counters, breaker, ejection, penalty and last transition, the transition
   * log and pool events. Safe from any thread; it does not stop traffic.
   *
   * @return the snapshot
   */
  public BalancerSnapshot snapshot() {
    return controller.snapshot();
  }

  /**
   * How the endpoint source is doing: the age of its last good answer and its current problem, if
   * any. Cheaper than {@link #snapshot()}; what a staleness gauge reads.
   *
   * @return the source's state
   */
  public SourceSnapshot sourceSnapshot() {
    return LoadBalancerConfig.sourceSnapshot(source);
  }

  /**
   * Stops the endpoint source, probes and timers. Leases already open can still be completed;
   * strategy switches are refused from now on.
   */
  @Override
  public void close() {
    controller.close();
    try {
      source.close();
    } catch (RuntimeException e) {
      LoggerFactory.getLogger(LoadBalancer.class)
          .warn("pool '{}': endpoint source failed to close", controller.name(), e);
    }
    if (ownScheduler != null) {
      ownScheduler.shutdown();
    }
  }

  @Override
  public String toString() {
    return "LoadBalancer[" + data + "]";
  }
}
