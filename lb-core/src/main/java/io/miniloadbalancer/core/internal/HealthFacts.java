package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.BreakerState;
import io.miniloadbalancer.core.spi.Scheduler;
import org.jspecify.annotations.Nullable;

/**
 * What the control context knows about one endpoint's health and holds, from which its {@link
 * io.miniloadbalancer.core.EndpointState} is derived. Written only on the control context; fields
 * that snapshots read are volatile.
 */
public final class HealthFacts {

    // Active checks.
    /** Whether active checks currently say up (after rise/fall). */
    public volatile boolean activeUp = true;

    /** The last probe's detail, for reasons and snapshots. */
    public volatile String lastProbe = "not probed";

    /** Consecutive passing probes while down. */
    public int risePasses;

    /** Consecutive failing probes while up. */
    public int fallFailures;

    /** The next probe round, if scheduled. */
    public Scheduler.@Nullable Cancellable probeTask;

    /** Bumped to retire a probe chain: results and rounds of an older generation are ignored. */
    public int probeGeneration;

    // The source's (registry's) view.
    /** Whether the endpoint source says it passes its checks. */
    public volatile boolean sourceUp = true;

    /** Whether the endpoint source has it in maintenance. */
    public volatile boolean sourceMaint;

    /** What the source last said, for reasons. */
    public volatile String sourceDetail = "passing";

    // Holds.
    /** Removed by the source; drains, then leaves. */
    public volatile boolean removalPending;

    /** Drained by an operator. */
    public volatile boolean operatorDrain;

    /** In maintenance. */
    public volatile boolean maint;

    /** The operator drain's deadline task, if any. */
    public Scheduler.@Nullable Cancellable drainDeadline;

    /** The removal drain's deadline task, if any. */
    public Scheduler.@Nullable Cancellable removalDeadline;

    /** This DRAINING episode's session window closed for good (its drain settled). */
    public boolean sessionsSettled;

    /** Re-checks a drain held open by pinned sessions once they have been quiet long enough. */
    public Scheduler.@Nullable Cancellable sessionQuietCheck;

    // Passive health.
    /** How many times this endpoint was ejected (decays while it stays clean). */
    public volatile int ejections;

    /** When the current ejection ends; meaningful while the breaker is open. */
    public volatile long ejectedUntilNanos;

    /** Circuit breaker state. */
    public volatile BreakerState breaker = BreakerState.CLOSED;

    /** Successful trials in the current half-open period. */
    public int trialSuccesses;

    /** The ejection's expiry task, if any. */
    public Scheduler.@Nullable Cancellable ejectionTask;

    /** Success counts at the last {@code WINDOW_STEPS} evaluations: a sliding window's edges. */
    public final long[] windowSuccesses = new long[PoolController.WINDOW_STEPS];

    /** Failure counts at the last {@code WINDOW_STEPS} evaluations: a sliding window's edges. */
    public final long[] windowFailures = new long[PoolController.WINDOW_STEPS];

    // Slow start.
    /** When the current ramp started; {@link Long#MIN_VALUE} when not ramping. */
    public volatile long rampStartNanos = Long.MIN_VALUE;
}
