package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.internal.Hashing;
import io.miniloadbalancer.core.internal.PoolController;
import io.miniloadbalancer.core.internal.RetryBudget;
import io.miniloadbalancer.core.internal.RoutingTable;
import io.miniloadbalancer.core.internal.StrategyConfig;
import io.miniloadbalancer.core.internal.SystemScheduler;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.EndpointSource;
import io.miniloadbalancer.core.spi.LeaseObserver;
import io.miniloadbalancer.core.spi.Scheduler;
import io.miniloadbalancer.core.spi.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
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
 * Builder#healthCheck}) move it to {@link EndpointState#UNHEALTHY} and back with rise/fall
 * hysteresis; passive outlier detection ({@link Builder#outlierDetection}) ejects it for a while
 * ({@link EndpointState#EJECTED}) with a half-open trial on return; an operator drains it ({@link
 * #drain}) or puts it in maintenance ({@link #maintenance}). An endpoint its source removes becomes
 * {@link EndpointState#DRAINING}: no new requests, its open leases finish, then it is {@link
 * EndpointState#REMOVED}; if leases are still open after {@link Builder#removalDrainTimeout}, it is
 * removed anyway and the transition says how many were open. Every change of state is a {@link
 * Transition} with a reason, kept in a bounded log. Only {@code HEALTHY} endpoints take new
 * requests, except in panic mode ({@link Builder#panicThreshold}).
 */
public final class LoadBalancer implements AutoCloseable {

    /** Picks tried before the fallback scan (a pick may be excluded or lose a race). */
    private static final int MAX_PICK_ATTEMPTS = 4;

    private final PoolController controller;
    private final Ticker ticker;
    private final LongSupplier random;
    private final LongAdder totalInFlight;
    private final EndpointSource source;
    private final @Nullable SystemScheduler ownScheduler;
    private final RetryBudget retryBudget;
    private final long maxPenaltyNanos;
    private final List<BalancerListener> listeners;
    private volatile LeaseObserver[] leaseObservers = new LeaseObserver[0];
    private volatile boolean observerFailureLogged;

    private LoadBalancer(
            PoolController controller,
            Builder b,
            LongAdder totalInFlight,
            EndpointSource source,
            @Nullable SystemScheduler ownScheduler,
            RetryBudget retryBudget,
            List<BalancerListener> listeners) {
        this.controller = controller;
        this.ticker = b.ticker;
        this.random = b.random;
        this.totalInFlight = totalInFlight;
        this.source = source;
        this.ownScheduler = ownScheduler;
        this.retryBudget = retryBudget;
        this.maxPenaltyNanos = b.maxPenalty.toNanos();
        this.listeners = listeners;
    }

    /**
     * A builder with every default; see each setting for its value and why.
     *
     * @return a builder with every default; see each setting for its value and why
     */
    public static Builder builder() {
        return new Builder();
    }

    // ---- data path
    // -------------------------------------------------------------------------------

    /**
     * Chooses an endpoint for a new request and opens a lease on it.
     *
     * <p>The strategy's pick is taken unless the context excludes it (a retry's tried endpoints) or
     * it refuses the lease (it left rotation a moment ago, or it is half-open and its trial is
     * full); then the strategy is asked again (hash strategies offer the key's next candidate), and
     * after a few tries the routable endpoints are scanned from a random start.
     *
     * @param context the request's hash key and exclusions ({@link RequestContext#none()} for none)
     * @return an open lease; the caller must complete or close it
     * @throws NoEndpointAvailableException when no endpoint may take a new request (shared,
     *     stackless; its message summarizes the pool)
     */
    public Lease acquire(RequestContext context) {
        long now = ticker.read();
        RoutingTable t = controller.table();
        boolean excludes = context.exclusionCount() > 0;
        for (int attempt = 0; attempt < MAX_PICK_ATTEMPTS; attempt++) {
            EndpointRuntime endpoint = t.picker().pick(context, now, attempt);
            if (endpoint == null) {
                throw t.noEndpoint();
            }
            if (excludes && context.excludes(endpoint.id())) {
                continue;
            }
            int started = endpoint.tryStartLease();
            if (started != EndpointRuntime.REFUSED) {
                return lease(t, endpoint, now, started);
            }
            // The control context changed this endpoint after we read the table: read the new one.
            t = controller.table();
        }
        EndpointRuntime[] routable = t.routable();
        int n = routable.length;
        int start = n == 0 ? 0 : Hashing.reduce(random.getAsLong(), n);
        for (int k = 0; k < n; k++) {
            EndpointRuntime endpoint = routable[(start + k) % n];
            if (excludes && context.excludes(endpoint.id())) {
                continue;
            }
            int started = endpoint.tryStartLease();
            if (started != EndpointRuntime.REFUSED) {
                return lease(t, endpoint, now, started);
            }
        }
        throw t.noEndpoint();
    }

    /**
     * Opens a lease on the endpoint a session is pinned to (a sticky cookie, an affinity table),
     * without asking the strategy: while the endpoint is {@link EndpointState#HEALTHY} and in
     * rotation, and also while it is {@link EndpointState#DRAINING} (and otherwise fit: up, not
     * ejected, not in maintenance) until its drain settles. That is the drain-aware transition: new
     * clients go elsewhere, pinned ones finish their work, and the drain settles once its sessions
     * have started no request for {@link Builder#drainSessionQuietPeriod} (or its timeout ends it).
     * A session lease never starts after the drain has settled.
     *
     * <p>Returns {@code null} when the endpoint is unknown, unhealthy or ejected (even when panic
     * mode spreads new requests over it), in maintenance, removed, out of rotation for another
     * reason (outside the preferred zone, paused by a Retry-After) or its drain has settled: the
     * caller then calls {@link #acquire} and re-pins the session to what it returns. Finds the
     * endpoint by a scan of the pool, without allocating.
     *
     * @param endpointId the pinned endpoint's id
     * @return an open lease on that endpoint, or {@code null}
     */
    public @Nullable Lease acquirePinned(String endpointId) {
        long now = ticker.read();
        RoutingTable t = controller.table();
        for (EndpointRuntime endpoint : t.members()) {
            if (endpoint.id().equals(endpointId)) {
                int started = endpoint.tryStartSessionLease(now);
                return started == EndpointRuntime.REFUSED ? null : lease(t, endpoint, now, started);
            }
        }
        return null;
    }

    private Lease lease(RoutingTable t, EndpointRuntime endpoint, long now, int started) {
        boolean counted = t.picker().readsTotalInFlight();
        if (counted) {
            totalInFlight.increment();
        }
        return new Lease(this, endpoint, now, counted, started == EndpointRuntime.STARTED_TRIAL);
    }

    long nanoTime() {
        return ticker.read();
    }

    long maxPenaltyNanos() {
        return maxPenaltyNanos;
    }

    void leaseEndedInTotal() {
        totalInFlight.decrement();
    }

    RetryBudget retryBudget() {
        return retryBudget;
    }

    LeaseObserver[] leaseObservers() {
        return leaseObservers;
    }

    void observerFailed(LeaseObserver observer, RuntimeException e) {
        if (!observerFailureLogged) {
            observerFailureLogged = true;
            LoggerFactory.getLogger(LoadBalancer.class)
                    .warn("pool '{}': lease observer {} failed (logged once)", name(), observer, e);
        }
    }

    /**
     * Adds an observer of every lease's end (request metrics). It runs on the data path: see {@link
     * LeaseObserver} for what it must not do.
     *
     * @param observer the observer
     */
    public synchronized void addLeaseObserver(LeaseObserver observer) {
        requireNonNull(observer, "observer");
        LeaseObserver[] next = Arrays.copyOf(leaseObservers, leaseObservers.length + 1);
        next[next.length - 1] = observer;
        leaseObservers = next;
    }

    /**
     * Removes a lease observer.
     *
     * @param observer the observer
     */
    public synchronized void removeLeaseObserver(LeaseObserver observer) {
        List<LeaseObserver> next = new ArrayList<>(Arrays.asList(leaseObservers));
        next.remove(observer);
        leaseObservers = next.toArray(new LeaseObserver[0]);
    }

    /**
     * Retries the balancer's budget has granted so far (all its retry executors).
     *
     * @return retries the balancer's budget has granted so far (all its retry executors)
     */
    public long retriesGranted() {
        return retryBudget.granted();
    }

    /**
     * Retries the balancer's budget has refused so far: requests that ended budget-exhausted.
     *
     * @return retries the balancer's budget has refused so far: requests that ended
     *     budget-exhausted
     */
    public long retriesRefused() {
        return retryBudget.refused();
    }

    /**
     * How many endpoints are in {@code state} now; cheap, for gauges.
     *
     * @param state the state to count
     * @return how many endpoints are in {@code state} now; cheap, for gauges
     */
    public int endpointCount(EndpointState state) {
        int n = 0;
        for (EndpointRuntime r : controller.table().members()) {
            n += r.state() == state ? 1 : 0;
        }
        return n;
    }

    /**
     * Open leases on the endpoint {@code id} now, or -1 when it is not in the pool; cheap, for
     * gauges.
     *
     * @param id the endpoint id
     * @return the open leases, or -1 when the endpoint is not in the pool
     */
    public int inFlight(String id) {
        for (EndpointRuntime r : controller.table().members()) {
            if (r.id().equals(id)) {
                return r.inFlight();
            }
        }
        return -1;
    }

    /**
     * Leases ended with {@code outcome} since the balancer started, over every endpoint that was
     * ever in the pool (monotonic, for counters). O(endpoints): for scrapes, not per request.
     *
     * @param outcome the outcome to count
     * @return leases ended with {@code outcome} since the balancer started, over every endpoint
     *     that was ever in the pool (monotonic, for counters)
     */
    public long completed(Outcome outcome) {
        return controller.completed(requireNonNull(outcome, "outcome"));
    }

    /**
     * Whether panic mode is on now; cheap, for gauges.
     *
     * @return whether panic mode is on now; cheap, for gauges
     */
    public boolean isPanic() {
        return controller.isPanic();
    }

    /**
     * A retry executor over this balancer: bounded, idempotent-only, each attempt on an endpoint
     * not yet tried, sharing this balancer's retry budget with every other executor of it.
     *
     * @param policy how the executor retries (the budget is the balancer's, shared)
     * @return a retry executor over this balancer: bounded, idempotent-only, each attempt on an
     *     endpoint not yet tried, sharing this balancer's retry budget with every other executor of
     *     it
     */
    public RetryExecutor retries(RetryPolicy policy) {
        return new RetryExecutor(this, requireNonNull(policy, "policy"));
    }

    // ---- control operations
    // ----------------------------------------------------------------------

    /**
     * Same as {@link #switchStrategy(String, String)} with the reason {@code "api"}.
     *
     * @param strategy the new strategy, one of {@link Strategies#names()}
     * @return same as {@link #switchStrategy(String, String)} with the reason {@code "api"}
     */
    public CompletableFuture<BalancerSnapshot> switchStrategy(String strategy) {
        return switchStrategy(strategy, "api");
    }

    /**
     * Switches strategy at runtime. Atomic for callers: each pick uses the old table or the new
     * one, never a mix; open leases and in-flight counts are untouched. Switching to the current
     * strategy is a no-op (no event). Listeners hear of the switch after it is published.
     *
     * @param reason who or what asked (kept in the event, the snapshot and the logs)
     * @param strategy the new strategy, one of {@link Strategies#names()}
     * @return completes with the snapshot after the switch, or exceptionally with {@link
     *     StrategySwitchRejectedException} when the minimum interval since the last switch has not
     *     passed or the balancer is closed
     * @throws IllegalArgumentException when {@code strategy} is unknown (the message lists the
     *     valid names)
     */
    public CompletableFuture<BalancerSnapshot> switchStrategy(String strategy, String reason) {
        Strategies.requireKnown(requireNonNull(strategy, "strategy"));
        return controller.switchStrategy(strategy, requireNonNull(reason, "reason"));
    }

    /**
     * Drains an endpoint: no new requests from now on (hash keys that mapped to it move), its open
     * leases finish. The endpoint stays {@link EndpointState#DRAINING} until {@link #undrain}.
     *
     * @param endpointId the endpoint id
     * @param timeout how long to wait for its leases to end
     * @return completes when its in-flight count reaches zero, or when {@code timeout} passes (then
     *     the result says how many were still open); fails with {@link IllegalArgumentException}
     *     for an unknown id
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
     * Adds a listener; it hears of transitions, switches and pool events from now on.
     *
     * @param listener the listener; it runs after each change is published, and its exceptions are
     *     logged, not rethrown
     */
    public void addListener(BalancerListener listener) {
        listeners.add(requireNonNull(listener, "listener"));
    }

    /**
     * Removes a listener.
     *
     * @param listener the listener; it runs after each change is published, and its exceptions are
     *     logged, not rethrown
     */
    public void removeListener(BalancerListener listener) {
        listeners.remove(listener);
    }

    // ---- introspection
    // ---------------------------------------------------------------------------

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
     * @return an immutable picture of the balancer now: strategy, panic and zone mode, every
     *     endpoint with its state, weights, counters, breaker, ejection, penalty and last
     *     transition, the transition log and pool events
     */
    public BalancerSnapshot snapshot() {
        return controller.snapshot();
    }

    /**
     * How the endpoint source is doing: the age of its last good answer and its current problem, if
     * any. Cheaper than {@link #snapshot()}; what a staleness gauge reads.
     *
     * @return how the endpoint source is doing: the age of its last good answer and its current
     *     problem, if any
     */
    public SourceSnapshot sourceSnapshot() {
        return sourceSnapshot(source);
    }

    private static SourceSnapshot sourceSnapshot(EndpointSource source) {
        try {
            return source.snapshot();
        } catch (RuntimeException e) {
            return new SourceSnapshot(
                    source.getClass().getSimpleName(), null, "snapshot failed: " + e);
        }
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
        RoutingTable t = controller.table();
        return "LoadBalancer["
                + name()
                + ", "
                + t.strategy()
                + ", "
                + t.routable().length
                + "/"
                + t.members().length
                + " routable]";
    }

    // ---- builder
    // ---------------------------------------------------------------------------------

    /**
     * Configures a {@link LoadBalancer}. Set-once style: {@link #build()} validates and copies, so
     * a builder can be reused. Not thread-safe.
     */
    public static final class Builder {

        private String name = "default";
        private @Nullable Collection<Endpoint> endpoints;
        private @Nullable EndpointSource source;
        private String strategy = Strategies.ROUND_ROBIN;
        private Duration minSwitchInterval = Duration.ofSeconds(10);
        private Duration removalDrainTimeout = Duration.ofSeconds(30);
        private Duration drainSessionQuietPeriod = Duration.ofSeconds(5);
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
        private @Nullable Scheduler scheduler;
        private @Nullable HealthCheck healthCheck;
        private @Nullable OutlierDetection outlierDetection;
        private @Nullable SlowStart slowStart;
        private int panicThreshold = 50;
        private String localZone = "";
        private int localZoneMinHealthyPercent = 70;
        private Duration maxPenalty = Duration.ofSeconds(30);
        private int retryBudgetPercent = 20;
        private int retryBudgetMinPerSecond = 10;
        private Duration retryBudgetWindow = Duration.ofSeconds(10);
        private final List<BalancerListener> listeners = new ArrayList<>();

        private Builder() {}

        /**
         * The pool's name, used in logs, errors, snapshots and metric tags. Default {@code
         * default}.
         *
         * @param name the pool's name, used in logs, errors, snapshots and metric tags
         * @return this builder
         */
        public Builder name(String name) {
            requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            this.name = name;
            return this;
        }

        /**
         * A fixed set of endpoints (a {@link StaticEndpointSource}). Excludes {@link #source}.
         *
         * @param endpoints a fixed set of endpoints (a {@link StaticEndpointSource})
         * @return this builder
         */
        public Builder endpoints(Collection<Endpoint> endpoints) {
            this.endpoints = List.copyOf(requireNonNull(endpoints, "endpoints"));
            return this;
        }

        /**
         * A fixed set of endpoints (a {@link StaticEndpointSource}). Excludes {@link #source}.
         *
         * @param endpoints a fixed set of endpoints (a {@link StaticEndpointSource})
         * @return this builder
         */
        public Builder endpoints(Endpoint... endpoints) {
            return endpoints(Arrays.asList(endpoints));
        }

        /**
         * Where endpoints come from (Consul, an admin plane, a {@link StaticEndpointSource}).
         *
         * @param source where endpoints come from (Consul, an admin plane, a {@link
         *     StaticEndpointSource})
         * @return this builder
         */
        public Builder source(EndpointSource source) {
            this.source = requireNonNull(source, "source");
            return this;
        }

        /**
         * The strategy at start, one of {@link Strategies#names()}. Default {@code round-robin}:
         * the default of Envoy, gRPC and Spring Cloud LoadBalancer, and the most predictable;
         * prefer {@code p2c-ewma} when backends differ in speed.
         *
         * @param strategy the strategy at start, one of {@link Strategies#names()}
         * @return this builder
         * @throws IllegalArgumentException naming the valid strategies, when unknown
         */
        public Builder strategy(String strategy) {
            this.strategy = Strategies.requireKnown(requireNonNull(strategy, "strategy"));
            return this;
        }

        /**
         * The minimum time between two strategy switches. Default 10 s: a switch resets hash
         * affinity and EWMA learning, and 10 s is the EWMA's decay time, so a faster toggle (an
         * operator's double click, a flapping automation) cannot thrash routing.
         *
         * @param interval the minimum time between two strategy switches
         * @return this builder
         */
        public Builder minSwitchInterval(Duration interval) {
            this.minSwitchInterval = nonNegative(interval, "minSwitchInterval");
            return this;
        }

        /**
         * How long an endpoint removed by its source may drain before it is dropped with leases
         * still open. Default 30 s: longer than any sane request, shorter than ALB's 300 s
         * deregistration delay, so the pool cannot fill with ghosts from leaked leases.
         *
         * @param timeout how long an endpoint removed by its source may drain before it is dropped
         *     with leases still open
         * @return this builder
         */
        public Builder removalDrainTimeout(Duration timeout) {
            this.removalDrainTimeout = nonNegative(timeout, "removalDrainTimeout");
            return this;
        }

        /**
         * How long the sessions pinned to a draining endpoint (see {@link
         * LoadBalancer#acquirePinned}) must start no request before its drain counts as settled.
         * Default 5 s: pinned clients (a browser, a multi-step API flow) pause between requests for
         * about as long as a person reads, so 5 s keeps one interaction on its endpoint without
         * holding a drain open for clients that moved on. The drain's own timeout still bounds it.
         * Zero: sessions only finish requests already in flight when the endpoint goes idle.
         *
         * @param period how long the sessions pinned to a draining endpoint (see {@link
         *     LoadBalancer#acquirePinned}) must start no request before its drain counts as settled
         * @return this builder
         */
        public Builder drainSessionQuietPeriod(Duration period) {
            this.drainSessionQuietPeriod = nonNegative(period, "drainSessionQuietPeriod");
            return this;
        }

        /**
         * The peak-EWMA decay time constant. Default 10 s, as Finagle and Linkerd.
         *
         * @param decay the peak-EWMA decay time constant
         * @return this builder
         */
        public Builder ewmaDecay(Duration decay) {
            if (decay.isZero() || decay.isNegative()) {
                throw new IllegalArgumentException("ewmaDecay must be positive, was " + decay);
            }
            this.ewmaDecay = decay;
            return this;
        }

        /**
         * The EWMA latency assumed before the first sample. Default 30 ms, as Finagle and Linkerd.
         *
         * @param rtt the EWMA latency assumed before the first sample
         * @return this builder
         */
        public Builder ewmaDefaultRtt(Duration rtt) {
            this.ewmaDefaultRtt = nonNegative(rtt, "ewmaDefaultRtt");
            return this;
        }

        /**
         * Bounded-load factor for {@code ring-hash} and {@code maglev}, in percent, as HAProxy's
         * {@code hash-balance-factor}: with 150, no endpoint takes more than 1.5 x its weighted
         * share of the in-flight requests; a key whose endpoint is full walks on to the next
         * candidate. 0 (the default, as Envoy and HAProxy) is off; 125 to 200 is the recommended
         * range.
         *
         * @param percent bounded-load factor for {@code ring-hash} and {@code maglev}, in percent,
         *     as HAProxy's {@code hash-balance-factor}: with 150, no endpoint takes more than 1.5 x
         *     its weighted share of the in-flight requests; a key whose endpoint is full walks on
         *     to the next candidate. 0 (the default, as Envoy and HAProxy) is off; 125 to 200 is
         *     the recommended range
         * @return this builder
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
         * Target ring points per endpoint of mean weight for {@code ring-hash}. Default 500: a
         * share's spread is about 1/sqrt(points), so 500 gives about 4.5%.
         *
         * @param points target ring points per endpoint of mean weight for {@code ring-hash}
         * @return this builder
         */
        public Builder ringPointsPerEndpoint(int points) {
            if (points < 1) {
                throw new IllegalArgumentException(
                        "ringPointsPerEndpoint must be positive, was " + points);
            }
            this.ringPointsPerEndpoint = points;
            return this;
        }

        /**
         * Bounds on the ring's total points. Defaults 1,024 (Envoy's minimum) and 1,048,576 (at
         * most 8 MiB of ring plus 8 MiB of index; Envoy allows 8M).
         *
         * @param min the fewest points on the ring
         * @param max the most points on the ring
         * @return this builder
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
         * The smallest Maglev table. Default 65,537 (Envoy's). The table is the first prime at or
         * above the larger of this and 100 x endpoints, the paper's rule for near-perfect balance.
         *
         * @param size the smallest Maglev table
         * @return this builder
         */
        public Builder maglevMinTableSize(int size) {
            if (size < 1) {
                throw new IllegalArgumentException(
                        "maglevMinTableSize must be positive, was " + size);
            }
            this.maglevMinTableSize = size;
            return this;
        }

        /**
         * How many transitions the log keeps. Default 256.
         *
         * @param size how many transitions the log keeps
         * @return this builder
         */
        public Builder transitionLogSize(int size) {
            if (size < 1) {
                throw new IllegalArgumentException(
                        "transitionLogSize must be at least 1, was " + size);
            }
            this.transitionLogSize = size;
            return this;
        }

        /**
         * The time source. Default {@link Ticker#system()}; tests pass a fake.
         *
         * @param ticker the time source
         * @return this builder
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * The wall clock for timestamps people read. Default UTC system clock.
         *
         * @param clock the wall clock for timestamps people read
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The random source of random, p2c and keyless hash picks, and of round-robin's start
         * offset. Must be thread-safe. Default {@link ThreadLocalRandom}; tests pass a seeded one.
         *
         * @param random the random source of random, p2c and keyless hash picks, and of
         *     round-robin's start offset
         * @return this builder
         */
        public Builder randomSource(LongSupplier random) {
            this.random = requireNonNull(random, "random");
            return this;
        }

        /**
         * Where timers run (probe rounds, ejection expiry, drain deadlines, slow-start steps).
         * Default: one daemon thread per balancer, started on first use. Tests pass a scheduler
         * driven by their fake ticker.
         *
         * @param scheduler where timers run (probe rounds, ejection expiry, drain deadlines,
         *     slow-start steps)
         * @return this builder
         */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * Active health checks. Default none: endpoints are healthy until passive signals say not.
         *
         * @param healthCheck active health checks
         * @return this builder
         */
        public Builder healthCheck(HealthCheck healthCheck) {
            this.healthCheck = requireNonNull(healthCheck, "healthCheck");
            return this;
        }

        /**
         * Passive outlier detection with per-endpoint circuit breakers. Default none; {@link
         * OutlierDetection#defaults()} gives Envoy's and gRPC's settings.
         *
         * @param outlierDetection passive outlier detection with per-endpoint circuit breakers
         * @return this builder
         */
        public Builder outlierDetection(OutlierDetection outlierDetection) {
            this.outlierDetection = requireNonNull(outlierDetection, "outlierDetection");
            return this;
        }

        /**
         * Slow start for joining and recovering endpoints. Default none, as Envoy and HAProxy.
         *
         * @param slowStart slow start for joining and recovering endpoints
         * @return this builder
         */
        public Builder slowStart(SlowStart slowStart) {
            this.slowStart = requireNonNull(slowStart, "slowStart");
            return this;
        }

        /**
         * Panic threshold in percent: below this share of healthy endpoints (among those not
         * drained or in maintenance), traffic spreads over all of them. Default 50 (Envoy's); 0
         * disables panic.
         *
         * @param percent panic threshold in percent: below this share of healthy endpoints (among
         *     those not drained or in maintenance), traffic spreads over all of them
         * @return this builder
         */
        public Builder panicThreshold(int percent) {
            if (percent < 0 || percent > 100) {
                throw new IllegalArgumentException(
                        "panicThreshold must be in 0..100, was " + percent);
            }
            this.panicThreshold = percent;
            return this;
        }

        /**
         * The zone this process runs in; endpoints of this zone are preferred while at least {@code
         * minHealthyPercent} of them are routable (cross-zone traffic costs money on AWS), else
         * traffic spills over to every zone. Default: no zone, zone-aware routing off. 70% keeps a
         * zone that lost one of three endpoints local only if it had at least four.
         *
         * @param zone this process's zone, as endpoints name theirs
         * @param minHealthyPercent the share of the local zone that must be routable to stay local,
         *     1..100
         * @return this builder
         */
        public Builder localZone(String zone, int minHealthyPercent) {
            requireNonNull(zone, "zone");
            if (minHealthyPercent < 1 || minHealthyPercent > 100) {
                throw new IllegalArgumentException(
                        "localZone minHealthyPercent must be in 1..100, was " + minHealthyPercent);
            }
            this.localZone = zone;
            this.localZoneMinHealthyPercent = minHealthyPercent;
            return this;
        }

        /**
         * The longest Retry-After penalty honoured. Default 30 s (the base ejection time): an
         * upstream may ask for a pause, not take itself out of rotation for an hour.
         *
         * @param maxPenalty the longest Retry-After penalty honoured
         * @return this builder
         */
        public Builder maxPenalty(Duration maxPenalty) {
            this.maxPenalty = nonNegative(maxPenalty, "maxPenalty");
            return this;
        }

        /**
         * The balancer's retry budget, shared by all its retry executors: retries at most {@code
         * percent}% of requests over {@code window}, plus {@code minPerSecond} per second. Defaults
         * 20%, 10/s, 10 s (Finagle's and Linkerd's).
         *
         * @param percent retries allowed, in percent of requests over the window
         * @param minPerSecond retries allowed per second on top of that, so a quiet service can
         *     still retry
         * @param window the window requests and retries are counted over, 1 s..1 h
         * @return this builder
         */
        public Builder retryBudget(int percent, int minPerSecond, Duration window) {
            if (percent < 0 || minPerSecond < 0) {
                throw new IllegalArgumentException(
                        "retryBudget percent and minPerSecond must be >= 0, were "
                                + percent
                                + " and "
                                + minPerSecond);
            }
            long seconds = requireNonNull(window, "window").toSeconds();
            if (seconds < 1 || seconds > 3600) {
                throw new IllegalArgumentException(
                        "retryBudget window must be 1 s..1 h, was " + window);
            }
            this.retryBudgetPercent = percent;
            this.retryBudgetMinPerSecond = minPerSecond;
            this.retryBudgetWindow = window;
            return this;
        }

        /**
         * Adds a listener present from the first endpoint set on.
         *
         * @param listener the listener; it runs after each change is published, and its exceptions
         *     are logged, not rethrown
         * @return this builder
         */
        public Builder listener(BalancerListener listener) {
            listeners.add(requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Builds the balancer and starts its source; a source that knows its set (a static one
         * does) has delivered it before this returns.
         *
         * @return the running balancer; close it to stop its timers and source
         * @throws IllegalStateException when neither or both of {@code endpoints} and {@code
         *     source} are set
         */
        public LoadBalancer build() {
            if ((endpoints == null) == (source == null)) {
                throw new IllegalStateException(
                        endpoints == null
                                ? "set endpoints(...) or source(...)"
                                : "set endpoints(...) or source(...), not both");
            }
            EndpointSource s = source != null ? source : new StaticEndpointSource(endpoints);
            LongAdder total = new LongAdder();
            SystemScheduler own =
                    scheduler == null ? new SystemScheduler("lb-" + name + "-timer") : null;
            RetryBudget budget =
                    new RetryBudget(
                            retryBudgetPercent / 100.0,
                            retryBudgetMinPerSecond,
                            (int) retryBudgetWindow.toSeconds());
            PoolController.Settings settings =
                    new PoolController.Settings(
                            name,
                            ticker,
                            clock,
                            scheduler != null ? scheduler : own,
                            random,
                            minSwitchInterval.toNanos(),
                            removalDrainTimeout.toNanos(),
                            drainSessionQuietPeriod.toNanos(),
                            ewmaDecay.toNanos(),
                            ewmaDefaultRtt.toNanos(),
                            new StrategyConfig(
                                    random,
                                    total,
                                    hashBalanceFactor,
                                    ringPointsPerEndpoint,
                                    minRingSize,
                                    maxRingSize,
                                    maglevMinTableSize),
                            healthCheck,
                            outlierDetection,
                            slowStart,
                            panicThreshold,
                            localZone,
                            localZoneMinHealthyPercent,
                            maxPenalty.toNanos(),
                            transitionLogSize,
                            budget);
            List<BalancerListener> shared = new CopyOnWriteArrayList<>(listeners);
            EndpointSource src = s;
            PoolController controller =
                    new PoolController(settings, strategy, shared, () -> sourceSnapshot(src));
            LoadBalancer balancer =
                    new LoadBalancer(controller, this, total, s, own, budget, shared);
            s.start(controller::onEndpoints);
            controller.start();
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
