package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.BreakerState;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.PoolEvent;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.spi.Scheduler;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Passive health: outlier ejection from what the data path reports (consecutive failures, half-open
 * trial results) and from each endpoint's failure rate over a sliding window, evaluated every
 * interval / {@value #WINDOW_STEPS}. An ejection opens the endpoint's breaker for a time that grows
 * with its ejection count (decaying while it stays clean); it then half-opens for a bounded trial.
 * The max-ejection share is the floor above: never more than that share of the eligible endpoints
 * out at once. An endpoint's window restarts when it becomes {@code HEALTHY} again (an ejection
 * ends, probes bring it back): failures recorded before the recovery are the outage's, not its.
 */
public final class OutlierEjection {

  /** Failure rates slide over the outlier interval in this many steps. */
  static final int WINDOW_STEPS = 5;

  /** One endpoint's ejection history and window; its fields belong to {@link OutlierEjection}. */
  static final class Track {
    private volatile int ejections;
    private volatile long ejectedUntilNanos;
    private Scheduler.@Nullable Cancellable ejectionTask;
    // Counter values at the last WINDOW_STEPS evaluations: the sliding window's edges.
    private final long[] windowSuccesses = new long[WINDOW_STEPS];
    private final long[] windowFailures = new long[WINDOW_STEPS];

    /** How many times the endpoint was ejected (decays while it stays clean). */
    int ejections() {
      return ejections;
    }

    /** When the current ejection ends; meaningful while the breaker is open. */
    long ejectedUntilNanos() {
      return ejectedUntilNanos;
    }

    void cancel() {
      Pool.cancel(ejectionTask);
    }
  }

  private final Pool pool;
  private final Journal journal;
  private final TablePublisher publisher;
  private final @Nullable OutlierDetection od;
  private Scheduler.@Nullable Cancellable evaluation;
  private long tick;

  /** Ejects by {@code od}, or never when it is null. */
  public OutlierEjection(
      Pool pool, Journal journal, TablePublisher publisher, @Nullable OutlierDetection od) {
    this.pool = pool;
    this.journal = journal;
    this.publisher = publisher;
    this.od = od;
  }

  /** Starts the periodic failure-rate evaluation. */
  public void start() {
    OutlierDetection detection = od;
    if (detection != null) {
      scheduleEvaluation(detection);
    }
  }

  /** Stops the periodic evaluation (the pool's close cancels the per-endpoint timers). */
  public void stop() {
    Pool.cancel(evaluation);
  }

  /** The data path counted {@code consecutive} failures in a row on {@code m}. */
  public void onConsecutiveFailures(Effects fx, Member m, int consecutive) {
    if (m.health().breaker() == BreakerState.CLOSED) {
      eject(fx, m, consecutive + " consecutive failures");
    }
  }

  /** A half-open trial request on {@code m} ended. */
  public void onTrialResult(Effects fx, Member m, boolean success) {
    OutlierDetection detection = od;
    if (m.health().breaker() != BreakerState.HALF_OPEN || detection == null) {
      return;
    }
    if (!success) {
      eject(fx, m, "trial request failed while half-open");
      return;
    }
    int passed = m.health().trialSucceeded(detection.trialRequests());
    if (passed > 0) {
      journal.event(
          fx, PoolEvent.Kind.BREAKER_CLOSED, m.id(), passed + " trial requests succeeded");
    }
  }

  private void eject(Effects fx, Member m, String why) {
    OutlierDetection detection = od;
    if (detection == null || pool.closed() || !pool.holds(m)) {
      return;
    }
    // A failed half-open trial re-opens the breaker whatever the state meanwhile; otherwise
    // only a healthy endpoint is ejected (a drained or unhealthy one takes no traffic already).
    boolean trialFailed = m.health().breaker() == BreakerState.HALF_OPEN;
    if (!trialFailed && m.state() != EndpointState.HEALTHY) {
      return;
    }
    if (detection.dryRun()) {
      journal.event(fx, PoolEvent.Kind.EJECTION_DRY_RUN, m.id(), "would eject: " + why);
      return;
    }
    if (!trialFailed && !ejectionAllowed(fx, m, why, detection)) {
      return;
    }
    long now = pool.now();
    Track t = m.outlier;
    t.ejections++;
    long base = detection.baseEjectionTime().toNanos();
    long duration = Math.min(detection.maxEjectionTime().toNanos(), base * t.ejections);
    duration += (long) (duration * detection.ejectionJitter() * pool.uniform());
    t.ejectedUntilNanos = now + duration;
    m.health().openBreaker();
    Arrays.fill(t.windowSuccesses, m.runtime().successes());
    Arrays.fill(t.windowFailures, m.runtime().failures());
    String reason =
        why
            + "; ejected for "
            + TimeUnit.NANOSECONDS.toMillis(duration)
            + " ms (ejection #"
            + t.ejections
            + ")";
    m.health().reconcile(fx, Transition.Cause.OUTLIER, reason, now);
    t.cancel();
    t.ejectionTask = pool.later(duration, later -> ejectionOver(later, m));
    publisher.publish(fx);
  }

  /** The max-ejection floor: whether one more may go out; says so with an event when not. */
  private boolean ejectionAllowed(Effects fx, Member m, String why, OutlierDetection detection) {
    int eligible = 0;
    int ejected = 0;
    for (Member other : pool.members()) {
      EndpointState st = other.state();
      if (st != EndpointState.DRAINING && st != EndpointState.MAINT) {
        eligible++;
        if (st == EndpointState.EJECTED) {
          ejected++;
        }
      }
    }
    int max = detection.maxEjectionPercent();
    int allowed = eligible < 2 ? 0 : Math.max(1, eligible * max / 100);
    if (ejected < allowed) {
      return true;
    }
    String reason =
        String.format(
            "%s; not ejected: %d of %d already ejected (max %d%%, at least 1 of 2 or" + " more)",
            why, ejected, eligible, max);
    journal.event(fx, PoolEvent.Kind.EJECTION_SKIPPED, m.id(), reason);
    return false;
  }

  private void ejectionOver(Effects fx, Member m) {
    if (endEjection(fx, m, "ejection time over", pool.now())) {
      publisher.publish(fx);
    }
  }

  /** Opens the half-open trial. Returns whether the state changed (the caller publishes). */
  boolean endEjection(Effects fx, Member m, String why, long now) {
    OutlierDetection detection = od;
    if (m.health().breaker() != BreakerState.OPEN || detection == null || !pool.holds(m)) {
      return false;
    }
    m.outlier.cancel();
    m.health().halfOpenBreaker(detection.trialRequests());
    Transition.Cause cause =
        why.startsWith("active check") ? Transition.Cause.PROBE : Transition.Cause.OUTLIER;
    String reason = why + "; half-open: trial of " + detection.trialRequests() + " requests";
    return m.health().reconcile(fx, cause, reason, now);
  }

  private void scheduleEvaluation(OutlierDetection detection) {
    evaluation =
        pool.later(
            detection.interval().toNanos() / WINDOW_STEPS,
            fx -> {
              if (!pool.closed()) {
                evaluate(fx, detection);
                scheduleEvaluation(detection);
              }
            });
  }

  /**
   * Each endpoint's failure rate over the last interval (a sliding window of the counters' values
   * at the last steps), and, once per interval, the decay of ejection counts of endpoints that
   * stayed clean.
   */
  private void evaluate(Effects fx, OutlierDetection detection) {
    int slot = (int) (tick % WINDOW_STEPS);
    boolean intervalEnd = slot == 0;
    tick++;
    for (Member m : pool.copy()) {
      Track t = m.outlier;
      long[] recovered = m.health().takeRecovery();
      if (recovered != null) {
        // The window starts at the recovery: failures from the outage are not held against it.
        Arrays.fill(t.windowSuccesses, recovered[0]);
        Arrays.fill(t.windowFailures, recovered[1]);
      }
      long successes = m.runtime().successes();
      long failures = m.runtime().failures();
      long ok = successes - t.windowSuccesses[slot];
      long failed = failures - t.windowFailures[slot];
      t.windowSuccesses[slot] = successes;
      t.windowFailures[slot] = failures;
      long total = ok + failed;
      boolean breakerClosed = m.health().breaker() == BreakerState.CLOSED;
      if (breakerClosed
          && total >= detection.minRequests()
          && failed >= detection.failureRate() * total) {
        String why =
            String.format(
                "failure rate %.0f%% over the last %d s (%d of %d)",
                100.0 * failed / total, detection.interval().toSeconds(), failed, total);
        eject(fx, m, why);
      } else if (intervalEnd && breakerClosed && failed == 0 && t.ejections > 0) {
        t.ejections--;
      }
    }
  }
}
