package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.BreakerState;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.SlowStart;
import io.miniloadbalancer.core.SourceHealth;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import java.util.EnumSet;
import org.jspecify.annotations.Nullable;

/**
 * One endpoint's state machine: the facts that decide its {@link EndpointState}, held here and
 * nowhere else, and the one place they become a state.
 *
 * <h2>Design</h2>
 *
 * <p>The state is derived ({@link #derive}) from facts that the stages report: removal by the
 * source and an operator drain give {@code DRAINING}, maintenance {@code MAINT}, an open breaker
 * {@code EJECTED}, failed active checks or a failing source verdict {@code UNHEALTHY}, else {@code
 * HEALTHY}. A stage changes a fact, then calls {@link #reconcile}, which records the state change,
 * if any, with the stage's reason and runs the entry actions. Deriving rather than transitioning
 * directly keeps overlapping causes straight: an endpoint drained while unhealthy returns to {@code
 * UNHEALTHY}, not {@code HEALTHY}, when undrained.
 *
 * <p>Entry actions: entering {@code HEALTHY} starts a slow-start ramp (a recovery ramps like a
 * join) and gives a half-open breaker a fresh trial; leaving it ends the ramp. While {@code
 * DRAINING}, the endpoint admits its pinned sessions until the drain settles, and only when it is
 * otherwise fit.
 *
 * <p>Written only on the control context; the facts that snapshots read are volatile.
 */
public final class EndpointHealth {

  /** What holds an endpoint out from outside its health. */
  enum Hold {
    /** The source no longer lists it: it drains, then leaves. */
    REMOVAL,
    /** An operator drained it. */
    OPERATOR_DRAIN,
    /** An operator put it in maintenance. */
    MAINTENANCE
  }

  private final EndpointRuntime runtime;
  private final Journal journal;
  private final @Nullable SlowStart slowStart;
  private final @Nullable OutlierDetection outliers;

  // The source's (registry's) view.
  private volatile boolean sourceUp = true;
  private volatile boolean sourceMaint;
  private volatile String sourceDetail = "passing";
  // Active checks, after rise/fall.
  private volatile boolean activeUp = true;
  // Holds: read and written on the control context only.
  private final EnumSet<Hold> holds = EnumSet.noneOf(Hold.class);
  // Passive health: the circuit breaker and its current half-open trial.
  private volatile BreakerState breaker = BreakerState.CLOSED;
  private int trialSuccesses;
  // Slow start: when the current ramp started; Long.MIN_VALUE when not ramping.
  private volatile long rampStartNanos = Long.MIN_VALUE;
  // The session window of a drain: someone awaits an operator drain; this DRAINING episode's
  // window has closed for good (its drain settled).
  private boolean drainAwaited;
  private boolean sessionsSettled;
  // The counters when it last entered HEALTHY, for outlier windows to start from; -1: not since
  // the last time the outlier stage took them.
  private long recoveredSuccesses = -1;
  private long recoveredFailures;

  EndpointHealth(
      EndpointRuntime runtime,
      Journal journal,
      @Nullable SlowStart slowStart,
      @Nullable OutlierDetection outliers) {
    this.runtime = runtime;
    this.journal = journal;
    this.slowStart = slowStart;
    this.outliers = outliers;
  }

  /** The one place an endpoint's state is decided. */
  EndpointState derive() {
    if (holds.contains(Hold.REMOVAL)) {
      return EndpointState.DRAINING;
    }
    if (holds.contains(Hold.MAINTENANCE) || sourceMaint) {
      return EndpointState.MAINT;
    }
    if (holds.contains(Hold.OPERATOR_DRAIN)) {
      return EndpointState.DRAINING;
    }
    if (breaker == BreakerState.OPEN) {
      return EndpointState.EJECTED;
    }
    if (!sourceUp || !activeUp) {
      return EndpointState.UNHEALTHY;
    }
    return EndpointState.HEALTHY;
  }

  /**
   * Records the first state of an endpoint the source just added, as a transition from nothing.
   * {@code ramp}: it joined a running pool, so it ramps up if it starts healthy.
   */
  void join(Effects fx, String reason, boolean ramp, long now) {
    EndpointState state = derive();
    if (ramp && slowStart != null && state == EndpointState.HEALTHY) {
      rampStartNanos = now;
    }
    record(fx, null, state, Transition.Cause.SOURCE, reason, now);
  }

  /** Records the state change the facts now imply, if any; returns whether there was one. */
  boolean reconcile(Effects fx, Transition.Cause cause, String reason, long now) {
    EndpointState from = runtime.state();
    EndpointState to = derive();
    if (from == to) {
      // A fact changed without changing the state (a probe failing during a drain): the
      // session window follows the facts, not only the state.
      updateSessionAdmission();
      return false;
    }
    switch (to) {
      case HEALTHY -> {
        // Failures from before the recovery (the outage itself) must not eject it again.
        recoveredSuccesses = runtime.successes();
        recoveredFailures = runtime.failures();
        runtime.clearConsecutiveFailures();
        // A cold or just-repaired endpoint should not take a full share at once.
        if (slowStart != null) {
          rampStartNanos = now;
        }
        // A half-open endpoint that was out meanwhile (probes, drain) starts a fresh
        // trial, so permits taken by leases that then gave no verdict cannot leave it
        // gated shut.
        if (outliers != null && breaker == BreakerState.HALF_OPEN) {
          trialSuccesses = 0;
          runtime.halfOpen(true, outliers.trialRequests());
        }
      }
      case UNHEALTHY, EJECTED, DRAINING, MAINT, REMOVED -> rampStartNanos = Long.MIN_VALUE;
      default -> throw new AssertionError(to);
    }
    record(fx, from, to, cause, reason, now);
    return true;
  }

  /** Records the endpoint's removal from the pool: the last transition it makes. */
  void remove(Effects fx, String reason, long now) {
    runtime.admitSessions(false);
    runtime.awaitIdle(false);
    record(fx, runtime.state(), EndpointState.REMOVED, Transition.Cause.DRAIN, reason, now);
  }

  private void record(
      Effects fx,
      @Nullable EndpointState from,
      EndpointState to,
      Transition.Cause cause,
      String reason,
      long now) {
    runtime.transition(journal.transition(fx, runtime.id(), from, to, cause, reason, now));
  }

  /**
   * A draining endpoint admits its pinned sessions until the drain settles (see {@code
   * LoadBalancer#acquirePinned}); nothing else does.
   */
  void updateSessionAdmission() {
    boolean draining = runtime.state() == EndpointState.DRAINING;
    if (!draining) {
      sessionsSettled = false; // a later drain is a new episode
    }
    boolean admit =
        draining
            && !sessionsSettled
            && drainWaiting()
            // Only a drain of an endpoint that is otherwise fit: never a dead, ejected
            // or maintained one (derive() reports DRAINING before those facts).
            && !holds.contains(Hold.MAINTENANCE)
            && !sourceMaint
            && sourceUp
            && activeUp
            && breaker != BreakerState.OPEN;
    if (admit != runtime.admitsSessions()) {
      runtime.admitSessions(admit);
    }
  }

  // ---- the source's verdict

  /** Records what the source says; returns whether its verdict changed. */
  boolean source(@Nullable SourceHealth said) {
    SourceHealth h = said != null ? said : SourceHealth.passing();
    boolean up = h.status() != SourceHealth.Status.CRITICAL;
    boolean inMaint = h.status() == SourceHealth.Status.MAINTENANCE;
    sourceDetail = h.detail();
    if (sourceUp == up && sourceMaint == inMaint) {
      return false;
    }
    sourceUp = up;
    sourceMaint = inMaint;
    return true;
  }

  /** Whether the source holds the endpoint out (failing or in maintenance). */
  boolean sourceHolds() {
    return !sourceUp || sourceMaint;
  }

  /** What the source last said, for reasons. */
  String sourceDetail() {
    return sourceDetail;
  }

  // ---- active checks

  boolean activeUp() {
    return activeUp;
  }

  void activeUp(boolean up) {
    activeUp = up;
  }

  // ---- holds

  /** Whether {@code hold} is on. */
  boolean held(Hold hold) {
    return holds.contains(hold);
  }

  /** Puts {@code hold} on or off; returns whether that changed it. */
  boolean hold(Hold hold, boolean on) {
    return on ? holds.add(hold) : holds.remove(hold);
  }

  /** Whether someone awaits an operator drain of this endpoint (a drain that admits sessions). */
  void drainAwaited(boolean awaited) {
    drainAwaited = awaited;
  }

  /** Whether a drain of any kind (operator or removal) waits for this endpoint to go idle. */
  boolean drainWaiting() {
    return drainAwaited || holds.contains(Hold.REMOVAL);
  }

  /**
   * This drain's session window closed for good: it stays shut until the endpoint leaves {@code
   * DRAINING}, even if another drain reason (a removal, a second drain call) is still pending.
   */
  void sessionsSettled() {
    sessionsSettled = true;
  }

  /**
   * The success and failure counts when the endpoint last became {@code HEALTHY}, once: {@code
   * null} when it has not recovered since the last call.
   */
  long @Nullable [] takeRecovery() {
    if (recoveredSuccesses < 0) {
      return null;
    }
    long[] counts = {recoveredSuccesses, recoveredFailures};
    recoveredSuccesses = -1;
    return counts;
  }

  // ---- the breaker

  BreakerState breaker() {
    return breaker;
  }

  /** Opens the breaker: no trial runs while it is open. */
  void openBreaker() {
    breaker = BreakerState.OPEN;
    trialSuccesses = 0;
    runtime.halfOpen(false, 0);
  }

  /** Half-opens the breaker with a fresh trial of the configured number of requests. */
  void halfOpenBreaker(int trialRequests) {
    breaker = BreakerState.HALF_OPEN;
    trialSuccesses = 0;
    runtime.halfOpen(true, trialRequests);
  }

  /**
   * Counts a successful trial request; closes the breaker and returns the count of successes once
   * {@code trialRequests} have succeeded, else returns 0.
   */
  int trialSucceeded(int trialRequests) {
    if (++trialSuccesses < trialRequests) {
      return 0;
    }
    breaker = BreakerState.CLOSED;
    runtime.halfOpen(false, 0);
    return trialSuccesses;
  }

  // ---- slow start

  boolean ramping() {
    return rampStartNanos != Long.MIN_VALUE;
  }

  long rampStartNanos() {
    return rampStartNanos;
  }

  void endRamp() {
    rampStartNanos = Long.MIN_VALUE;
  }

  /** The slow-start factor at {@code now}: 1 when not ramping. */
  double rampFactor(long now) {
    SlowStart ss = slowStart;
    long start = rampStartNanos;
    if (ss == null || start == Long.MIN_VALUE) {
      return 1.0;
    }
    return ss.factor(now - start);
  }
}
