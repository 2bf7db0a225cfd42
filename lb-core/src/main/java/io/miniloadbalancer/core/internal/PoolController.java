package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.BreakerState;
import io.miniloadbalancer.core.DrainResult;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.HealthCheck;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.PoolEvent;
import io.miniloadbalancer.core.ProbeResult;
import io.miniloadbalancer.core.SlowStart;
import io.miniloadbalancer.core.SourceHealth;
import io.miniloadbalancer.core.SourceSnapshot;
import io.miniloadbalancer.core.Strategies;
import io.miniloadbalancer.core.StrategySwitch;
import io.miniloadbalancer.core.StrategySwitchRejectedException;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.internal.strategy.StrategyConfig;
import io.miniloadbalancer.core.internal.strategy.StrategyRegistry;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.Scheduler;
import io.miniloadbalancer.core.spi.Ticker;
import io.miniloadbalancer.core.strategy.Picker;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything that changes a balancer's state, run in order on its control context: endpoint sets,
 * active probes, passive outlier detection, drains and maintenance, slow start, penalties, strategy
 * switches. Each change ends with {@link #publish()}, which builds the next immutable {@link
 * RoutingTable} for the data path, then listeners hear of it.
 *
 * <h2>Endpoint state</h2>
 *
 * <p>An endpoint's {@link EndpointState} is derived, in one place ({@link #derive}), from facts
 * kept in its {@link HealthFacts}: removal by the source and an operator drain give {@code
 * DRAINING}, maintenance {@code MAINT}, an open breaker {@code EJECTED}, failed active checks
 * {@code UNHEALTHY}, else {@code HEALTHY}. Events change facts; {@link #reconcile} then records the
 * state change, if any, with the event's reason. Deriving rather than transitioning directly keeps
 * overlapping causes straight: an endpoint drained while unhealthy returns to {@code UNHEALTHY},
 * not {@code HEALTHY}, when undrained.
 *
 * <h2>Routing</h2>
 *
 * <p>Only {@code HEALTHY} endpoints are routable, minus those under a Retry-After penalty (except
 * for {@code p2c-ewma}, which prices the penalty in) and, with zone preference, minus other zones
 * while the local zone has enough healthy endpoints. Safety floors sit above: when fewer than the
 * panic threshold of the endpoints that are not drained or in maintenance are healthy, every one of
 * those is routable (panic), because routing to possibly-bad endpoints beats concentrating all
 * traffic on the few left.
 */
public final class PoolController implements EndpointRuntime.Signals {

    private static final Logger LOG = LoggerFactory.getLogger(PoolController.class);

    /** Failure rates slide over the outlier interval in this many steps. */
    static final int WINDOW_STEPS = 5;

    /** Frozen settings. */
    public record Settings(
            String name,
            Ticker ticker,
            Clock clock,
            Scheduler scheduler,
            LongSupplier random,
            long minSwitchIntervalNanos,
            long removalDrainTimeoutNanos,
            long drainSessionQuietNanos,
            double ewmaTauNanos,
            long ewmaDefaultRttNanos,
            StrategyConfig strategyConfig,
            @Nullable HealthCheck healthCheck,
            @Nullable OutlierDetection outlierDetection,
            @Nullable SlowStart slowStart,
            int panicThresholdPercent,
            String localZone,
            int localZoneMinHealthyPercent,
            long maxPenaltyNanos,
            int logSize,
            RetryBudget retryBudget) {}

    private final Settings s;
    private final Supplier<SourceSnapshot> sourceView;
    private final ControlContext control;
    private final List<BalancerListener> listeners;
    private final EventLog<Transition> transitions;
    private final EventLog<PoolEvent> events;

    private volatile RoutingTable table;
    private volatile @Nullable StrategySwitch lastSwitch;
    private volatile boolean panic;
    private volatile String zoneMode;

    // Owned by the control context.
    private final Map<String, EndpointRuntime> pool = new LinkedHashMap<>();
    private final Map<EndpointRuntime, List<DrainWaiter>> drainWaiters = new IdentityHashMap<>();
    private String strategy;
    private boolean initialized;
    private boolean hasSwitched;
    private long lastSwitchNanos;
    private boolean closed;
    private Scheduler.@Nullable Cancellable outlierTask;
    private long outlierTick;
    private Scheduler.@Nullable Cancellable rampTask;
    private final Map<EndpointRuntime, Scheduler.Cancellable> penaltyTasks =
            new IdentityHashMap<>();
    // Outcome counts of endpoints that left the pool, so pool totals never go backwards.
    private final java.util.concurrent.atomic.AtomicLongArray retiredOutcomes =
            new java.util.concurrent.atomic.AtomicLongArray(4);

    private record DrainWaiter(CompletableFuture<DrainResult> future, long startNanos) {}

    /**
     * A controller with an empty pool; call {@link #start()} once. {@code sourceView} tells
     * snapshots how the endpoint source is doing; it must not throw.
     */
    public PoolController(
            Settings settings,
            String initialStrategy,
            List<BalancerListener> listeners,
            Supplier<SourceSnapshot> sourceView) {
        this.s = settings;
        this.sourceView = sourceView;
        this.control = new ControlContext(settings.name());
        this.listeners = listeners;
        this.transitions = new EventLog<>(settings.logSize());
        this.events = new EventLog<>(settings.logSize());
        this.strategy = initialStrategy;
        this.zoneMode = settings.localZone().isEmpty() ? "zone-aware routing off" : "not evaluated";
        EndpointRuntime[] none = new EndpointRuntime[0];
        this.table =
                new RoutingTable(
                        initialStrategy, Picker.EMPTY, none, new double[0], none, noEndpoint(none));
    }

    /** Starts periodic work (outlier evaluation). */
    public void start() {
        OutlierDetection od = s.outlierDetection();
        if (od != null) {
            scheduleOutlierEvaluation(od);
        }
    }

    /** The published routing table: one volatile read. */
    public RoutingTable table() {
        return table;
    }

    /** The pool's name. */
    public String name() {
        return s.name();
    }

    /** Whether panic mode is on. */
    public boolean isPanic() {
        return panic;
    }

    /**
     * Leases ended with {@code outcome} since start, over every endpoint that was ever in the pool.
     * Reads the published table's members plus the retired totals; a member removed between the two
     * reads may be counted twice or not at all for that one read, never lost for good.
     */
    public long completed(io.miniloadbalancer.core.Outcome outcome) {
        long total = 0;
        for (EndpointRuntime r : table.members()) {
            total +=
                    switch (outcome) {
                        case SUCCESS -> r.successes();
                        case FAILURE -> r.failures();
                        case OVERLOADED -> r.overloaded();
                        case CANCELLED -> r.cancellations();
                    };
        }
        return total + retiredOutcomes.get(outcome.ordinal());
    }

    // ---- endpoint sets
    // ---------------------------------------------------------------------------

    /** From the endpoint source, any thread. */
    public void onEndpoints(List<Endpoint> endpoints, Map<String, SourceHealth> health) {
        List<Endpoint> copy = List.copyOf(endpoints);
        Map<String, SourceHealth> healthCopy = Map.copyOf(health);
        control.execute(() -> applyEndpoints(copy, healthCopy));
    }

    private void applyEndpoints(List<Endpoint> endpoints, Map<String, SourceHealth> health) {
        if (closed) {
            return;
        }
        Map<String, Endpoint> next = new LinkedHashMap<>();
        for (Endpoint e : endpoints) {
            if (next.put(e.id(), e) != null) {
                LOG.warn(
                        "pool '{}': rejected an endpoint set with duplicate id '{}'; keeping the"
                                + " last good set of {} endpoints",
                        s.name(),
                        e.id(),
                        pool.size());
                return;
            }
        }
        long now = now();
        List<Object> fired = new ArrayList<>();
        boolean joinedLater = initialized;
        initialized = true;
        for (Endpoint e : next.values()) {
            EndpointRuntime r = pool.get(e.id());
            if (r == null) {
                r = newRuntime(e, now);
                pool.put(e.id(), r);
                HealthFacts f = r.facts();
                applySourceHealth(f, health.get(e.id()));
                HealthCheck hc = s.healthCheck();
                String reason = "added by source";
                if (!f.sourceUp || f.sourceMaint) {
                    reason += "; source says " + f.sourceDetail;
                }
                if (hc != null && joinedLater && hc.newEndpointsWaitForProbe()) {
                    f.activeUp = false;
                    reason += "; waiting for " + hc.rise() + " passing probes";
                }
                EndpointState state = derive(f);
                if (joinedLater && s.slowStart() != null && state == EndpointState.HEALTHY) {
                    f.rampStartNanos = now;
                }
                r.transition(record(fired, r, null, state, Transition.Cause.SOURCE, reason, now));
                if (hc != null) {
                    scheduleProbe(r, (s.random().getAsLong() >>> 1) % hc.interval().toNanos());
                }
                continue;
            }
            if (!r.endpoint().equals(e)) {
                LOG.debug("pool '{}': endpoint {} updated to {}", s.name(), e.id(), e);
                r.endpoint(e);
            }
            if (r.facts().removalPending) {
                r.facts().removalPending = false;
                cancel(r.facts().removalDeadline);
                r.awaitIdle(r.facts().operatorDrain);
                applySourceHealth(r.facts(), health.get(e.id()));
                reconcile(
                        fired,
                        r,
                        Transition.Cause.SOURCE,
                        "re-added by source while draining",
                        now);
            } else if (applySourceHealth(r.facts(), health.get(e.id()))) {
                reconcile(
                        fired,
                        r,
                        Transition.Cause.SOURCE,
                        "source says " + r.facts().sourceDetail,
                        now);
            }
        }
        for (EndpointRuntime r : List.copyOf(pool.values())) {
            if (!next.containsKey(r.id()) && !r.facts().removalPending) {
                r.facts().removalPending = true;
                r.awaitIdle(true);
                reconcile(
                        fired,
                        r,
                        Transition.Cause.SOURCE,
                        "removed by source; draining " + r.inFlight() + " in-flight",
                        now);
                r.facts().removalDeadline =
                        s.scheduler()
                                .schedule(
                                        () -> control.execute(() -> onRemovalDeadline(r)),
                                        s.removalDrainTimeoutNanos());
            }
        }
        publish(fired);
        settleDrains(fired);
        notify(fired);
        ensureRamping();
    }

    /** Records what the source says; returns whether its verdict changed. */
    private static boolean applySourceHealth(HealthFacts f, @Nullable SourceHealth said) {
        SourceHealth h = said != null ? said : SourceHealth.passing();
        boolean up = h.status() != SourceHealth.Status.CRITICAL;
        boolean maint = h.status() == SourceHealth.Status.MAINTENANCE;
        f.sourceDetail = h.detail();
        if (f.sourceUp == up && f.sourceMaint == maint) {
            return false;
        }
        f.sourceUp = up;
        f.sourceMaint = maint;
        return true;
    }

    private EndpointRuntime newRuntime(Endpoint e, long now) {
        OutlierDetection od = s.outlierDetection();
        return new EndpointRuntime(
                e,
                EndpointState.HEALTHY,
                s.ewmaTauNanos(),
                s.ewmaDefaultRttNanos(),
                od == null ? 0 : od.consecutiveFailures(),
                now,
                this);
    }

    // ---- state
    // -----------------------------------------------------------------------------------

    /** The one place an endpoint's state is decided. */
    static EndpointState derive(HealthFacts f) {
        if (f.removalPending) {
            return EndpointState.DRAINING;
        }
        if (f.maint || f.sourceMaint) {
            return EndpointState.MAINT;
        }
        if (f.operatorDrain) {
            return EndpointState.DRAINING;
        }
        if (f.breaker == BreakerState.OPEN) {
            return EndpointState.EJECTED;
        }
        if (!f.sourceUp || !f.activeUp) {
            return EndpointState.UNHEALTHY;
        }
        return EndpointState.HEALTHY;
    }

    /** Records the state change the facts now imply, if any; returns whether there was one. */
    private boolean reconcile(
            List<Object> fired,
            EndpointRuntime r,
            Transition.Cause cause,
            String reason,
            long now) {
        EndpointState from = r.state();
        EndpointState to = derive(r.facts());
        if (from == to) {
            // A fact changed without changing the state (a probe failing during a drain): the
            // session
            // window follows the facts, not only the state.
            updateSessionAdmission(r);
            return false;
        }
        switch (to) {
            case HEALTHY -> {
                // A recovery ramps like a join: a cold or just-repaired endpoint should not take a
                // full
                // share at once.
                if (s.slowStart() != null) {
                    r.facts().rampStartNanos = now;
                }
                // A half-open endpoint that was out meanwhile (probes, drain) starts a fresh trial,
                // so
                // permits taken by leases that then gave no verdict cannot leave it gated shut.
                OutlierDetection od = s.outlierDetection();
                if (od != null && r.facts().breaker == BreakerState.HALF_OPEN) {
                    r.facts().trialSuccesses = 0;
                    r.halfOpen(true, od.trialRequests());
                }
            }
            case UNHEALTHY, EJECTED, DRAINING, MAINT, REMOVED ->
                    r.facts().rampStartNanos = Long.MIN_VALUE;
            default -> throw new AssertionError(to);
        }
        r.transition(record(fired, r, from, to, cause, reason, now));
        return true;
    }

    private Transition record(
            List<Object> fired,
            EndpointRuntime r,
            @Nullable EndpointState from,
            EndpointState to,
            Transition.Cause cause,
            String reason,
            long now) {
        Transition t = new Transition(r.id(), from, to, cause, reason, now, s.clock().instant());
        transitions.add(t);
        fired.add(t);
        LOG.info("pool '{}': endpoint {} {} -> {} ({})", s.name(), r.id(), from, to, reason);
        return t;
    }

    private void event(
            List<Object> fired, PoolEvent.Kind kind, @Nullable String endpointId, String reason) {
        PoolEvent e = new PoolEvent(kind, endpointId, reason, now(), s.clock().instant());
        events.add(e);
        fired.add(e);
        LOG.info(
                "pool '{}': {}{} ({})",
                s.name(),
                kind,
                endpointId == null ? "" : " " + endpointId,
                reason);
    }

    private void notify(List<Object> fired) {
        for (Object o : fired) {
            for (BalancerListener listener : listeners) {
                try {
                    if (o instanceof Transition t) {
                        listener.onTransition(t);
                    } else if (o instanceof PoolEvent e) {
                        listener.onPoolEvent(e);
                    } else if (o instanceof StrategySwitch sw) {
                        listener.onStrategySwitch(sw);
                    }
                } catch (RuntimeException e) {
                    LOG.warn("pool '{}': listener {} failed on {}", s.name(), listener, o, e);
                }
            }
        }
    }

    // ---- publishing
    // ------------------------------------------------------------------------------

    /**
     * Builds and publishes the routing table. Endpoints entering rotation are flagged routable
     * before the table is published, those leaving after, so a data-path thread that re-checks the
     * flag never starts a lease on an endpoint that left (see {@link EndpointRuntime}).
     */
    private void publish(List<Object> fired) {
        long now = now();
        List<EndpointRuntime> eligible = new ArrayList<>();
        List<EndpointRuntime> healthy = new ArrayList<>();
        for (EndpointRuntime r : pool.values()) {
            EndpointState state = r.state();
            if (state != EndpointState.DRAINING && state != EndpointState.MAINT) {
                eligible.add(r);
                if (state == EndpointState.HEALTHY) {
                    healthy.add(r);
                }
            }
        }
        boolean panicNow =
                s.panicThresholdPercent() > 0
                        && !eligible.isEmpty()
                        && healthy.size() * 100L
                                < (long) s.panicThresholdPercent() * eligible.size();
        if (panicNow != panic) {
            panic = panicNow;
            event(
                    fired,
                    panicNow ? PoolEvent.Kind.PANIC_ENTERED : PoolEvent.Kind.PANIC_EXITED,
                    null,
                    healthy.size()
                            + " of "
                            + eligible.size()
                            + " endpoints healthy; panic threshold "
                            + s.panicThresholdPercent()
                            + "%"
                            + (panicNow ? ": spreading over all " + eligible.size() : ""));
        }
        List<EndpointRuntime> candidates = panicNow ? eligible : healthy;
        if (!strategy.equals(Strategies.P2C_EWMA)) {
            List<EndpointRuntime> unpenalized = new ArrayList<>();
            for (EndpointRuntime r : candidates) {
                if (r.penaltyUntilNanos() <= now) {
                    unpenalized.add(r);
                }
            }
            // Skipping penalized endpoints must not empty the table: a paused endpoint beats none.
            if (!unpenalized.isEmpty()) {
                candidates = unpenalized;
            }
        }
        candidates = preferLocalZone(fired, candidates, eligible, panicNow);

        EndpointRuntime[] routable = candidates.toArray(new EndpointRuntime[0]);
        double[] configured = new double[routable.length];
        double[] effective = new double[routable.length];
        for (int i = 0; i < routable.length; i++) {
            configured[i] = routable[i].endpoint().weight();
            effective[i] = configured[i] * rampFactor(routable[i], now);
        }
        EndpointRuntime[] members = pool.values().toArray(new EndpointRuntime[0]);
        Picker picker =
                StrategyRegistry.create(
                        strategy, routable, configured, effective, s.strategyConfig());
        RoutingTable previous = table;
        RoutingTable next =
                new RoutingTable(
                        strategy, picker, routable, effective, members, noEndpoint(members));
        for (EndpointRuntime r : members) {
            updateSessionAdmission(r);
        }
        Set<EndpointRuntime> entering = Collections.newSetFromMap(new IdentityHashMap<>());
        Collections.addAll(entering, routable);
        for (EndpointRuntime r : routable) {
            r.routable(true);
        }
        table = next;
        for (EndpointRuntime r : previous.routable()) {
            if (!entering.contains(r)) {
                r.routable(false);
            }
        }
    }

    private List<EndpointRuntime> preferLocalZone(
            List<Object> fired,
            List<EndpointRuntime> candidates,
            List<EndpointRuntime> eligible,
            boolean panicNow) {
        String zone = s.localZone();
        if (zone.isEmpty()) {
            return candidates;
        }
        int localEligible = 0;
        for (EndpointRuntime r : eligible) {
            if (zone.equals(r.endpoint().zone())) {
                localEligible++;
            }
        }
        List<EndpointRuntime> local = new ArrayList<>();
        for (EndpointRuntime r : candidates) {
            if (zone.equals(r.endpoint().zone())) {
                local.add(r);
            }
        }
        boolean stay =
                !panicNow
                        && !local.isEmpty()
                        && local.size() * 100L
                                >= (long) s.localZoneMinHealthyPercent() * localEligible;
        String mode =
                (stay ? "local zone " + zone : "all zones")
                        + ": "
                        + local.size()
                        + "/"
                        + localEligible
                        + " routable in "
                        + zone
                        + " (minimum "
                        + s.localZoneMinHealthyPercent()
                        + "%)"
                        + (panicNow ? ", panic" : "");
        if (!mode.equals(zoneMode)) {
            // An event when the decision flips (or is first made); count changes only update the
            // mode.
            boolean first = !zoneMode.startsWith("local zone") && !zoneMode.startsWith("all zones");
            boolean wasLocal = zoneMode.startsWith("local zone");
            zoneMode = mode;
            if (first || wasLocal != stay) {
                event(
                        fired,
                        stay ? PoolEvent.Kind.ZONE_LOCAL : PoolEvent.Kind.ZONE_SPILLOVER,
                        null,
                        mode);
            }
        }
        return stay ? local : candidates;
    }

    private double rampFactor(EndpointRuntime r, long now) {
        SlowStart ss = s.slowStart();
        long start = r.facts().rampStartNanos;
        if (ss == null || start == Long.MIN_VALUE) {
            return 1.0;
        }
        return ss.factor(now - start);
    }

    private NoEndpointAvailableException noEndpoint(EndpointRuntime[] members) {
        if (members.length == 0) {
            return new NoEndpointAvailableException(
                    "no routable endpoint in pool '" + s.name() + "': empty");
        }
        Map<EndpointState, Integer> counts = new EnumMap<>(EndpointState.class);
        for (EndpointRuntime r : members) {
            counts.merge(r.state(), 1, Integer::sum);
        }
        StringBuilder sb = new StringBuilder();
        counts.forEach(
                (state, n) ->
                        sb.append(sb.length() == 0 ? "" : ", ")
                                .append(n)
                                .append(' ')
                                .append(state));
        return new NoEndpointAvailableException(
                "no routable endpoint in pool '"
                        + s.name()
                        + "': "
                        + members.length
                        + " endpoint"
                        + (members.length == 1 ? "" : "s")
                        + ": "
                        + sb);
    }

    // ---- drains and removal
    // ----------------------------------------------------------------------

    /** Operator drain; see {@code LoadBalancer#drain}. */
    public CompletableFuture<DrainResult> drain(String id, Duration timeout) {
        return onEndpoint(
                id,
                (r, result, fired) -> {
                    long now = now();
                    r.facts().operatorDrain = true;
                    r.awaitIdle(true);
                    reconcile(
                            fired,
                            r,
                            Transition.Cause.OPERATOR,
                            "drained by operator; " + r.inFlight() + " in-flight",
                            now);
                    drainWaiters
                            .computeIfAbsent(r, k -> new ArrayList<>())
                            .add(new DrainWaiter(result, now));
                    scheduleDrainDeadline(r, timeout.toNanos());
                    publish(fired);
                    settleDrains(fired);
                });
    }

    /** Operator undrain; see {@code LoadBalancer#undrain}. */
    public CompletableFuture<Void> undrain(String id) {
        return onEndpoint(
                id,
                (r, result, fired) -> {
                    if (r.facts().operatorDrain) {
                        r.facts().operatorDrain = false;
                        r.awaitIdle(r.facts().removalPending);
                        completeWaiters(r, false);
                        reconcile(
                                fired,
                                r,
                                Transition.Cause.OPERATOR,
                                "undrained by operator",
                                now());
                        publish(fired);
                    }
                    result.complete(null);
                });
    }

    /** Maintenance on or off; see {@code LoadBalancer#maintenance}. */
    public CompletableFuture<Void> maintenance(String id, boolean on, String reason) {
        return onEndpoint(
                id,
                (r, result, fired) -> {
                    HealthFacts f = r.facts();
                    if (f.maint != on) {
                        f.maint = on;
                        String why = reason;
                        HealthCheck hc = s.healthCheck();
                        if (!on && hc != null) {
                            // Back through the normal checks: it was held out for a reason.
                            f.activeUp = false;
                            f.risePasses = 0;
                            why += "; waiting for " + hc.rise() + " passing probes";
                            cancel(f.probeTask);
                            f.probeGeneration++;
                            scheduleProbe(r, 0);
                        }
                        reconcile(fired, r, Transition.Cause.OPERATOR, why, now());
                        publish(fired);
                    }
                    result.complete(null);
                });
    }

    /** An operator action on one endpoint, run on the control context. */
    @FunctionalInterface
    private interface EndpointAction<T> {
        void apply(EndpointRuntime endpoint, CompletableFuture<T> result, List<Object> fired);
    }

    /**
     * Runs {@code action} on the endpoint {@code id} on the control context, then notifies
     * listeners of what it fired; an unknown id fails the returned future with a message naming it.
     */
    private <T> CompletableFuture<T> onEndpoint(String id, EndpointAction<T> action) {
        CompletableFuture<T> result = new CompletableFuture<>();
        control.execute(
                () -> {
                    EndpointRuntime r = pool.get(id);
                    if (r == null) {
                        result.completeExceptionally(unknown(id));
                        return;
                    }
                    List<Object> fired = new ArrayList<>();
                    action.apply(r, result, fired);
                    notify(fired);
                    ensureRamping();
                });
        return result;
    }

    private IllegalArgumentException unknown(String id) {
        return new IllegalArgumentException("no endpoint '" + id + "' in pool '" + s.name() + "'");
    }

    private void scheduleDrainDeadline(EndpointRuntime r, long delayNanos) {
        HealthFacts f = r.facts();
        cancel(f.drainDeadline);
        f.drainDeadline =
                s.scheduler()
                        .schedule(
                                () ->
                                        control.execute(
                                                () -> {
                                                    if (pool.get(r.id()) == r) {
                                                        completeWaiters(r, false);
                                                    }
                                                }),
                                delayNanos);
    }

    private void onRemovalDeadline(EndpointRuntime r) {
        if (pool.get(r.id()) != r || !r.facts().removalPending) {
            return;
        }
        List<Object> fired = new ArrayList<>();
        finishRemoval(
                fired,
                r,
                "drain timeout after "
                        + TimeUnit.NANOSECONDS.toMillis(s.removalDrainTimeoutNanos())
                        + " ms with "
                        + r.inFlight()
                        + " still in flight");
        notify(fired);
    }

    /**
     * Data-path signals are handed to the scheduler's thread rather than run on the request thread
     * that raised them: control work (an ejection rebuilds a routing table) must not land in one
     * unlucky request's latency.
     */
    private void signal(Runnable task) {
        s.scheduler().schedule(() -> control.execute(task), 0);
    }

    @Override
    public void onIdle(EndpointRuntime endpoint) {
        signal(this::settleDrainsAndNotify);
    }

    private void settleDrainsAndNotify() {
        List<Object> fired = new ArrayList<>();
        settleDrains(fired);
        notify(fired);
    }

    /**
     * A draining endpoint admits its pinned sessions until the drain settles (see {@code
     * LoadBalancer#acquirePinned}); nothing else does.
     */
    private void updateSessionAdmission(EndpointRuntime r) {
        HealthFacts f = r.facts();
        if (r.state() != EndpointState.DRAINING) {
            f.sessionsSettled = false; // a later drain is a new episode
        }
        boolean admit =
                r.state() == EndpointState.DRAINING
                        && !f.sessionsSettled
                        && (drainWaiters.containsKey(r) || f.removalPending)
                        // Only a drain of an endpoint that is otherwise fit: never a dead, ejected
                        // or
                        // maintained one (derive() reports DRAINING before those facts).
                        && !f.maint
                        && !f.sourceMaint
                        && f.sourceUp
                        && f.activeUp
                        && f.breaker != BreakerState.OPEN;
        if (admit != r.admitsSessions()) {
            r.admitSessions(admit);
        }
    }

    // Runs after publish(): routable flags are already cleared, so an in-flight count of 0 read
    // here
    // cannot be followed by a new lease (see EndpointRuntime). A drain that admits pinned sessions
    // settles only once they have been quiet for the configured period, and closes the session
    // window
    // before its final in-flight read, so the same holds for session leases.
    private void settleDrains(List<Object> fired) {
        for (EndpointRuntime r : List.copyOf(pool.values())) {
            if (r.inFlight() != 0) {
                continue;
            }
            boolean waited = drainWaiters.containsKey(r) || r.facts().removalPending;
            if (!waited || !sessionsQuiet(r)) {
                continue;
            }
            if (drainWaiters.containsKey(r)) {
                completeWaiters(r, true);
            }
            if (r.facts().removalPending) {
                finishRemoval(fired, r, "drained; no request in flight");
            }
        }
    }

    /**
     * Whether no pinned session may start a lease on this idle, draining endpoint any more. Closes
     * its session window when the sessions have been quiet long enough; re-opens it (and waits for
     * idle again) when a session lease slipped in meanwhile; schedules a re-check while they are
     * active.
     */
    private boolean sessionsQuiet(EndpointRuntime r) {
        if (!r.admitsSessions()) {
            return true;
        }
        long last = r.lastSessionLeaseNanos();
        long now = now();
        if (last != Long.MIN_VALUE && now - last < s.drainSessionQuietNanos()) {
            long delay = last + s.drainSessionQuietNanos() - now;
            HealthFacts f = r.facts();
            cancel(f.sessionQuietCheck);
            f.sessionQuietCheck =
                    s.scheduler()
                            .schedule(() -> control.execute(this::settleDrainsAndNotify), delay);
            return false;
        }
        r.admitSessions(false);
        if (r.inFlight() != 0) {
            // A session lease started before the window closed: it is seen; wait for it to end.
            r.admitSessions(true);
            return false;
        }
        // Settled for this drain: the window stays shut until the endpoint leaves DRAINING, even if
        // another drain reason (a removal, a second drain call) is still pending.
        r.facts().sessionsSettled = true;
        return true;
    }

    private void completeWaiters(EndpointRuntime r, boolean completed) {
        List<DrainWaiter> waiters = drainWaiters.remove(r);
        if (waiters == null) {
            return;
        }
        cancel(r.facts().drainDeadline);
        long now = now();
        int open = completed ? 0 : r.inFlight();
        for (DrainWaiter w : waiters) {
            w.future()
                    .complete(
                            new DrainResult(
                                    r.id(),
                                    completed,
                                    open,
                                    Duration.ofNanos(now - w.startNanos())));
        }
        updateSessionAdmission(r);
    }

    private void finishRemoval(List<Object> fired, EndpointRuntime r, String reason) {
        HealthFacts f = r.facts();
        cancel(f.drainDeadline);
        cancel(f.removalDeadline);
        cancel(f.probeTask);
        cancel(f.ejectionTask);
        cancel(penaltyTasks.remove(r));
        cancel(f.sessionQuietCheck);
        completeWaiters(r, r.inFlight() == 0);
        r.admitSessions(false);
        pool.remove(r.id());
        retiredOutcomes.addAndGet(0, r.successes());
        retiredOutcomes.addAndGet(1, r.failures());
        retiredOutcomes.addAndGet(2, r.overloaded());
        retiredOutcomes.addAndGet(3, r.cancellations());
        r.awaitIdle(false);
        r.transition(
                record(
                        fired,
                        r,
                        r.state(),
                        EndpointState.REMOVED,
                        Transition.Cause.DRAIN,
                        reason,
                        now()));
        publish(fired);
    }

    // ---- active health checks
    // --------------------------------------------------------------------

    private void scheduleProbe(EndpointRuntime r, long delayNanos) {
        int generation = r.facts().probeGeneration;
        r.facts().probeTask =
                s.scheduler()
                        .schedule(() -> control.execute(() -> runProbe(r, generation)), delayNanos);
    }

    private void runProbe(EndpointRuntime r, int generation) {
        HealthCheck hc = s.healthCheck();
        if (closed
                || hc == null
                || pool.get(r.id()) != r
                || generation != r.facts().probeGeneration) {
            return;
        }
        if (r.facts().maint) {
            // Not probed in maintenance: held out on purpose, its failures are expected.
            scheduleProbe(r, jittered(hc.interval(), hc));
            return;
        }
        CompletionStage<ProbeResult> stage;
        try {
            stage = hc.probe().check(r.endpoint());
        } catch (RuntimeException e) {
            stage = CompletableFuture.completedFuture(ProbeResult.fail("probe threw " + e));
        }
        stage.toCompletableFuture()
                .completeOnTimeout(
                        ProbeResult.fail("no answer within " + hc.timeout().toMillis() + " ms"),
                        hc.timeout().toNanos(),
                        TimeUnit.NANOSECONDS)
                .whenComplete(
                        (result, error) -> {
                            ProbeResult verdict =
                                    result != null
                                            ? result
                                            : ProbeResult.fail(
                                                    "probe failed: "
                                                            + (error == null
                                                                    ? "no result"
                                                                    : error));
                            control.execute(() -> onProbeResult(r, verdict, generation));
                        });
    }

    private void onProbeResult(EndpointRuntime r, ProbeResult result, int generation) {
        HealthCheck hc = s.healthCheck();
        if (closed
                || hc == null
                || pool.get(r.id()) != r
                || generation != r.facts().probeGeneration) {
            return;
        }
        HealthFacts f = r.facts();
        f.lastProbe = (result.healthy() ? "pass: " : "fail: ") + result.detail();
        List<Object> fired = new ArrayList<>();
        long now = now();
        boolean changed = false;
        if (!f.maint) {
            if (result.healthy()) {
                f.fallFailures = 0;
                if (!f.activeUp && ++f.risePasses >= hc.rise()) {
                    f.activeUp = true;
                    f.risePasses = 0;
                    changed |=
                            reconcile(
                                    fired,
                                    r,
                                    Transition.Cause.PROBE,
                                    hc.rise() + " passing probes: " + result.detail(),
                                    now);
                }
                OutlierDetection od = s.outlierDetection();
                if (od != null && od.activeCheckEndsEjection() && f.breaker == BreakerState.OPEN) {
                    changed |=
                            endEjection(
                                    fired, r, "active check passed (" + result.detail() + ")", now);
                }
            } else {
                f.risePasses = 0;
                if (f.activeUp && ++f.fallFailures >= hc.fall()) {
                    f.activeUp = false;
                    f.fallFailures = 0;
                    changed |=
                            reconcile(
                                    fired,
                                    r,
                                    Transition.Cause.PROBE,
                                    hc.fall() + " failed probes: " + result.detail(),
                                    now);
                }
            }
        }
        if (changed) {
            publish(fired);
        }
        notify(fired);
        ensureRamping();
        Duration next =
                (f.activeUp && f.fallFailures > 0) || (!f.activeUp && f.risePasses > 0)
                        ? hc.fastInterval()
                        : f.activeUp ? hc.interval() : hc.downInterval();
        scheduleProbe(r, jittered(next, hc));
    }

    private long jittered(Duration interval, HealthCheck hc) {
        double u = (s.random().getAsLong() >>> 11) * 0x1.0p-53;
        return (long) (interval.toNanos() * (1.0 + hc.jitter() * (2 * u - 1)));
    }

    // ---- passive health
    // --------------------------------------------------------------------------

    @Override
    public void onConsecutiveFailures(EndpointRuntime r, int consecutive) {
        signal(
                () -> {
                    if (r.facts().breaker == BreakerState.CLOSED) {
                        List<Object> fired = new ArrayList<>();
                        eject(fired, r, consecutive + " consecutive failures");
                        notify(fired);
                    }
                });
    }

    @Override
    public void onTrialResult(EndpointRuntime r, boolean success) {
        signal(
                () -> {
                    HealthFacts f = r.facts();
                    OutlierDetection od = s.outlierDetection();
                    if (f.breaker != BreakerState.HALF_OPEN
                            || od == null
                            || pool.get(r.id()) != r) {
                        return;
                    }
                    List<Object> fired = new ArrayList<>();
                    if (!success) {
                        eject(fired, r, "trial request failed while half-open");
                    } else if (++f.trialSuccesses >= od.trialRequests()) {
                        f.breaker = BreakerState.CLOSED;
                        r.halfOpen(false, 0);
                        event(
                                fired,
                                PoolEvent.Kind.BREAKER_CLOSED,
                                r.id(),
                                f.trialSuccesses + " trial requests succeeded");
                    }
                    notify(fired);
                });
    }

    private void eject(List<Object> fired, EndpointRuntime r, String why) {
        OutlierDetection od = s.outlierDetection();
        if (od == null || closed || pool.get(r.id()) != r) {
            return;
        }
        HealthFacts f = r.facts();
        // A failed half-open trial re-opens the breaker whatever the state meanwhile; otherwise
        // only a
        // healthy endpoint is ejected (a drained or unhealthy one takes no traffic already).
        boolean trialFailed = f.breaker == BreakerState.HALF_OPEN;
        if (!trialFailed && r.state() != EndpointState.HEALTHY) {
            return;
        }
        if (od.dryRun()) {
            event(fired, PoolEvent.Kind.EJECTION_DRY_RUN, r.id(), "would eject: " + why);
            return;
        }
        int eligible = 0;
        int ejected = 0;
        for (EndpointRuntime other : pool.values()) {
            EndpointState st = other.state();
            if (st != EndpointState.DRAINING && st != EndpointState.MAINT) {
                eligible++;
                if (st == EndpointState.EJECTED) {
                    ejected++;
                }
            }
        }
        int allowed = eligible < 2 ? 0 : Math.max(1, eligible * od.maxEjectionPercent() / 100);
        if (!trialFailed && ejected >= allowed) {
            event(
                    fired,
                    PoolEvent.Kind.EJECTION_SKIPPED,
                    r.id(),
                    why
                            + "; not ejected: "
                            + ejected
                            + " of "
                            + eligible
                            + " already ejected (max "
                            + od.maxEjectionPercent()
                            + "%, at least 1 of 2 or more)");
            return;
        }
        long now = now();
        f.ejections++;
        long base = od.baseEjectionTime().toNanos();
        long duration = Math.min(od.maxEjectionTime().toNanos(), base * f.ejections);
        double u = (s.random().getAsLong() >>> 11) * 0x1.0p-53;
        duration += (long) (duration * od.ejectionJitter() * u);
        f.ejectedUntilNanos = now + duration;
        f.breaker = BreakerState.OPEN;
        java.util.Arrays.fill(f.windowSuccesses, r.successes());
        java.util.Arrays.fill(f.windowFailures, r.failures());
        f.trialSuccesses = 0;
        r.halfOpen(false, 0);
        reconcile(
                fired,
                r,
                Transition.Cause.OUTLIER,
                why
                        + "; ejected for "
                        + TimeUnit.NANOSECONDS.toMillis(duration)
                        + " ms (ejection #"
                        + f.ejections
                        + ")",
                now);
        cancel(f.ejectionTask);
        f.ejectionTask =
                s.scheduler()
                        .schedule(
                                () ->
                                        control.execute(
                                                () -> {
                                                    List<Object> later = new ArrayList<>();
                                                    if (endEjection(
                                                            later,
                                                            r,
                                                            "ejection time over",
                                                            now())) {
                                                        publish(later);
                                                    }
                                                    notify(later);
                                                    ensureRamping();
                                                }),
                                duration);
        publish(fired);
    }

    /** Opens the half-open trial. Returns whether the state changed (the caller publishes). */
    private boolean endEjection(List<Object> fired, EndpointRuntime r, String why, long now) {
        HealthFacts f = r.facts();
        OutlierDetection od = s.outlierDetection();
        if (f.breaker != BreakerState.OPEN || od == null || pool.get(r.id()) != r) {
            return false;
        }
        cancel(f.ejectionTask);
        f.breaker = BreakerState.HALF_OPEN;
        f.trialSuccesses = 0;
        r.halfOpen(true, od.trialRequests());
        return reconcile(
                fired,
                r,
                why.startsWith("active check") ? Transition.Cause.PROBE : Transition.Cause.OUTLIER,
                why + "; half-open: trial of " + od.trialRequests() + " requests",
                now);
    }

    private void scheduleOutlierEvaluation(OutlierDetection od) {
        outlierTask =
                s.scheduler()
                        .schedule(
                                () ->
                                        control.execute(
                                                () -> {
                                                    if (!closed) {
                                                        evaluateOutliers(od);
                                                        scheduleOutlierEvaluation(od);
                                                    }
                                                }),
                                od.interval().toNanos() / WINDOW_STEPS);
    }

    /**
     * Every interval / {@value #WINDOW_STEPS}: each endpoint's failure rate over the last interval
     * (a sliding window of the counters' values at the last steps), and, once per interval, the
     * decay of ejection counts of endpoints that stayed clean.
     */
    private void evaluateOutliers(OutlierDetection od) {
        int slot = (int) (outlierTick % WINDOW_STEPS);
        boolean intervalEnd = slot == 0;
        outlierTick++;
        List<Object> fired = new ArrayList<>();
        for (EndpointRuntime r : List.copyOf(pool.values())) {
            HealthFacts f = r.facts();
            long successes = r.successes();
            long failures = r.failures();
            long ok = successes - f.windowSuccesses[slot];
            long failed = failures - f.windowFailures[slot];
            f.windowSuccesses[slot] = successes;
            f.windowFailures[slot] = failures;
            long total = ok + failed;
            if (f.breaker == BreakerState.CLOSED
                    && total >= od.minRequests()
                    && failed >= od.failureRate() * total) {
                eject(
                        fired,
                        r,
                        String.format(
                                "failure rate %.0f%% over the last %d s (%d of %d)",
                                100.0 * failed / total, od.interval().toSeconds(), failed, total));
            } else if (intervalEnd
                    && f.breaker == BreakerState.CLOSED
                    && failed == 0
                    && f.ejections > 0) {
                f.ejections--;
            }
        }
        notify(fired);
    }

    // ---- penalties
    // -------------------------------------------------------------------------------

    @Override
    public void onOverloaded(EndpointRuntime r, long untilNanos) {
        signal(
                () -> {
                    long now = now();
                    long until = Math.min(untilNanos, now + s.maxPenaltyNanos());
                    if (pool.get(r.id()) != r || until <= r.penaltyUntilNanos()) {
                        return;
                    }
                    List<Object> fired = new ArrayList<>();
                    r.penaltyUntilNanos(until);
                    event(
                            fired,
                            PoolEvent.Kind.PENALIZED,
                            r.id(),
                            "asked for a pause of "
                                    + TimeUnit.NANOSECONDS.toMillis(until - now)
                                    + " ms");
                    cancel(penaltyTasks.remove(r));
                    penaltyTasks.put(
                            r,
                            s.scheduler()
                                    .schedule(
                                            () ->
                                                    control.execute(
                                                            () -> {
                                                                penaltyTasks.remove(r);
                                                                List<Object> later =
                                                                        new ArrayList<>();
                                                                publish(later);
                                                                notify(later);
                                                            }),
                                            until - now));
                    publish(fired);
                    notify(fired);
                });
    }

    // ---- slow start
    // ------------------------------------------------------------------------------

    private void ensureRamping() {
        SlowStart ss = s.slowStart();
        if (ss == null || rampTask != null || closed) {
            return;
        }
        boolean any = false;
        for (EndpointRuntime r : pool.values()) {
            any |= r.facts().rampStartNanos != Long.MIN_VALUE;
        }
        if (any) {
            long step = Math.max(ss.window().toNanos() / 20, TimeUnit.MILLISECONDS.toNanos(100));
            rampTask = s.scheduler().schedule(() -> control.execute(this::rampStep), step);
        }
    }

    private void rampStep() {
        rampTask = null;
        SlowStart ss = s.slowStart();
        if (ss == null || closed) {
            return;
        }
        long now = now();
        List<Object> fired = new ArrayList<>();
        for (EndpointRuntime r : pool.values()) {
            HealthFacts f = r.facts();
            if (f.rampStartNanos != Long.MIN_VALUE
                    && now - f.rampStartNanos >= ss.window().toNanos()) {
                f.rampStartNanos = Long.MIN_VALUE;
                event(
                        fired,
                        PoolEvent.Kind.SLOW_START_DONE,
                        r.id(),
                        "full weight after " + ss.window().toMillis() + " ms");
            }
        }
        publish(fired);
        notify(fired);
        ensureRamping();
    }

    // ---- strategy
    // --------------------------------------------------------------------------------

    /** See {@code LoadBalancer#switchStrategy}. */
    public CompletableFuture<BalancerSnapshot> switchStrategy(String to, String reason) {
        CompletableFuture<BalancerSnapshot> result = new CompletableFuture<>();
        control.execute(() -> applySwitch(to, reason, result));
        return result;
    }

    private void applySwitch(String to, String reason, CompletableFuture<BalancerSnapshot> result) {
        if (closed) {
            result.completeExceptionally(
                    new StrategySwitchRejectedException("balancer '" + s.name() + "' is closed"));
            return;
        }
        if (to.equals(strategy)) {
            result.complete(snapshot());
            return;
        }
        long now = now();
        long sinceLast = now - lastSwitchNanos;
        if (hasSwitched && sinceLast < s.minSwitchIntervalNanos()) {
            result.completeExceptionally(
                    new StrategySwitchRejectedException(
                            String.format(
                                    "switch of pool '%s' to '%s' refused: the last switch was %d ms"
                                            + " ago and minSwitchInterval is %d ms; retry in %d ms",
                                    s.name(),
                                    to,
                                    TimeUnit.NANOSECONDS.toMillis(sinceLast),
                                    TimeUnit.NANOSECONDS.toMillis(s.minSwitchIntervalNanos()),
                                    TimeUnit.NANOSECONDS.toMillis(
                                            s.minSwitchIntervalNanos() - sinceLast))));
            return;
        }
        String from = strategy;
        strategy = to;
        hasSwitched = true;
        lastSwitchNanos = now;
        List<Object> fired = new ArrayList<>();
        publish(fired);
        StrategySwitch event = new StrategySwitch(from, to, reason, now, s.clock().instant());
        lastSwitch = event;
        LOG.info("pool '{}': strategy {} -> {} ({})", s.name(), from, to, reason);
        fired.add(event);
        result.complete(snapshot());
        notify(fired);
    }

    // ---- introspection
    // ---------------------------------------------------------------------------

    /** See {@code LoadBalancer#snapshot}. */
    public BalancerSnapshot snapshot() {
        RoutingTable t = table;
        long now = now();
        Map<EndpointRuntime, Double> effective = new IdentityHashMap<>();
        for (int i = 0; i < t.routable().length; i++) {
            effective.put(t.routable()[i], t.weights()[i]);
        }
        List<EndpointSnapshot> endpoints = new ArrayList<>(t.members().length);
        for (EndpointRuntime r : t.members()) {
            Endpoint e = r.endpoint();
            HealthFacts f = r.facts();
            long ejectionLeft =
                    f.breaker == BreakerState.OPEN ? Math.max(0, f.ejectedUntilNanos - now) : 0;
            endpoints.add(
                    new EndpointSnapshot(
                            e,
                            r.state(),
                            r.routable(),
                            e.weight(),
                            effective.getOrDefault(r, 0.0),
                            rampFactor(r, now),
                            r.inFlight(),
                            r.ewmaNanosAt(now) / 1e6,
                            r.successes(),
                            r.failures(),
                            r.overloaded(),
                            r.cancellations(),
                            r.consecutiveFailures(),
                            f.breaker,
                            f.ejections,
                            TimeUnit.NANOSECONDS.toMillis(ejectionLeft),
                            r.penaltyUntilNanos() > now
                                    ? TimeUnit.NANOSECONDS.toMillis(r.penaltyUntilNanos() - now)
                                    : 0,
                            f.lastProbe,
                            r.lastTransition()));
        }
        return new BalancerSnapshot(
                s.name(),
                t.strategy(),
                lastSwitch,
                panic,
                zoneMode,
                Math.max(0, s.retryBudget().available(now)),
                endpoints,
                transitions.toList(),
                events.toList(),
                sourceView.get(),
                now,
                s.clock().instant());
    }

    /** Stops timers and probes; waits for the control context to finish the current task. */
    public void close() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable stop =
                () -> {
                    if (!closed) {
                        closed = true;
                        cancel(outlierTask);
                        cancel(rampTask);
                        penaltyTasks.values().forEach(Scheduler.Cancellable::cancel);
                        for (EndpointRuntime r : pool.values()) {
                            cancel(r.facts().probeTask);
                            cancel(r.facts().ejectionTask);
                            cancel(r.facts().drainDeadline);
                            cancel(r.facts().removalDeadline);
                            cancel(r.facts().sessionQuietCheck);
                        }
                    }
                    done.complete(null);
                };
        if (control.inContext()) {
            // Called from a listener or a drain callback: we already hold the context.
            stop.run();
        } else {
            control.execute(stop);
            done.join();
        }
    }

    private static void cancel(Scheduler.@Nullable Cancellable task) {
        if (task != null) {
            task.cancel();
        }
    }

    private long now() {
        return s.ticker().read();
    }
}
