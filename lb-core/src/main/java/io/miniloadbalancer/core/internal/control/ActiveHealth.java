package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.BreakerState;
import io.miniloadbalancer.core.HealthCheck;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.ProbeResult;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.internal.control.EndpointHealth.Hold;
import io.miniloadbalancer.core.spi.Scheduler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Active health checks: one probe chain per endpoint, {@code rise} passes to come up and {@code
 * fall} failures to go down, with the interval chosen by state (HAProxy's {@code inter}, {@code
 * fastinter}, {@code downinter}) and jittered so endpoints are not probed in lockstep.
 *
 * <p>A chain is retired by bumping its generation: a round or a result of an older generation is
 * ignored, so restarting the chain (after maintenance) never runs two at once. A passing probe may
 * also end a first ejection early when outlier detection is configured so; a repeated ejection (a
 * flapping endpoint) runs its full time.
 */
public final class ActiveHealth {

  /** One endpoint's probe chain; its fields belong to {@link ActiveHealth}. */
  static final class Track {
    private int risePasses;
    private int fallFailures;
    private Scheduler.@Nullable Cancellable probeTask;
    private int generation;
    private volatile String lastProbe = "not probed";

    /** The last probe's verdict and detail, for snapshots. */
    String lastProbe() {
      return lastProbe;
    }

    void cancel() {
      Pool.cancel(probeTask);
    }
  }

  private final Pool pool;
  private final @Nullable HealthCheck hc;
  private final @Nullable OutlierDetection od;
  private final TablePublisher publisher;
  private final OutlierEjection outliers;

  /** Checks with {@code hc}, or none when it is null. */
  public ActiveHealth(
      Pool pool,
      @Nullable HealthCheck hc,
      @Nullable OutlierDetection od,
      TablePublisher publisher,
      OutlierEjection outliers) {
    this.pool = pool;
    this.hc = hc;
    this.od = od;
    this.publisher = publisher;
    this.outliers = outliers;
  }

  /**
   * Starts the probe chain of a member the source just added, at a random offset within one
   * interval. Returns what its join reason should add: an endpoint that joins a running pool waits
   * for {@code rise} passing probes when configured so.
   */
  String admit(Member m, boolean joinedLater) {
    HealthCheck check = hc;
    if (check == null) {
      return "";
    }
    String reason = "";
    if (joinedLater && check.newEndpointsWaitForProbe()) {
      m.health().activeUp(false);
      reason = "; waiting for " + check.rise() + " passing probes";
    }
    return reason;
  }

  /** Schedules the first probe of a member {@link #admit admitted} just now. */
  void startProbing(Member m) {
    HealthCheck check = hc;
    if (check != null) {
      schedule(m, pool.below(check.interval().toNanos()));
    }
  }

  /**
   * Back from maintenance: through the normal checks again, from down, probing at once (it was held
   * out for a reason). Returns what the reason should add.
   */
  String recheckAfterMaintenance(Member m) {
    HealthCheck check = hc;
    if (check == null) {
      return "";
    }
    Track t = m.probe;
    m.health().activeUp(false);
    t.risePasses = 0;
    Pool.cancel(t.probeTask);
    t.generation++;
    schedule(m, 0);
    return "; waiting for " + check.rise() + " passing probes";
  }

  private void schedule(Member m, long delayNanos) {
    int generation = m.probe.generation;
    m.probe.probeTask = pool.later(delayNanos, fx -> runProbe(m, generation));
  }

  private boolean current(Member m, int generation) {
    return !pool.closed() && hc != null && pool.holds(m) && generation == m.probe.generation;
  }

  private void runProbe(Member m, int generation) {
    HealthCheck check = hc;
    if (check == null || !current(m, generation)) {
      return;
    }
    if (m.health().held(Hold.MAINTENANCE)) {
      // Not probed in maintenance: held out on purpose, its failures are expected.
      schedule(m, jittered(check.interval(), check));
      return;
    }
    CompletionStage<ProbeResult> stage;
    try {
      stage = check.probe().check(m.runtime().endpoint());
    } catch (RuntimeException e) {
      stage = CompletableFuture.completedFuture(ProbeResult.fail("probe threw " + e));
    }
    stage
        .toCompletableFuture()
        .completeOnTimeout(
            ProbeResult.fail("no answer within " + check.timeout().toMillis() + " ms"),
            check.timeout().toNanos(),
            TimeUnit.NANOSECONDS)
        .whenComplete(
            (result, error) -> {
              ProbeResult verdict =
                  result != null
                      ? result
                      : ProbeResult.fail("probe failed: " + (error == null ? "no result" : error));
              pool.executeTask(() -> onResult(m, verdict, generation));
            });
  }

  private void onResult(Member m, ProbeResult result, int generation) {
    HealthCheck check = hc;
    if (check == null || !current(m, generation)) {
      return;
    }
    Track t = m.probe;
    t.lastProbe = (result.healthy() ? "pass: " : "fail: ") + result.detail();
    pool.run(fx -> judge(fx, m, check, result));
    // The next round is chosen after the verdict: fast while rise or fall is under way.
    boolean up = m.health().activeUp();
    Duration next =
        (up && t.fallFailures > 0) || (!up && t.risePasses > 0)
            ? check.fastInterval()
            : up ? check.interval() : check.downInterval();
    schedule(m, jittered(next, check));
  }

  private void judge(Effects fx, Member m, HealthCheck check, ProbeResult result) {
    if (m.health().held(Hold.MAINTENANCE)) {
      return;
    }
    long now = pool.now();
    boolean changed =
        result.healthy() ? passed(fx, m, check, result, now) : failed(fx, m, check, result, now);
    if (changed) {
      publisher.publish(fx);
    }
  }

  private boolean passed(Effects fx, Member m, HealthCheck check, ProbeResult result, long now) {
    Track t = m.probe;
    EndpointHealth health = m.health();
    boolean changed = false;
    t.fallFailures = 0;
    if (!health.activeUp() && ++t.risePasses >= check.rise()) {
      health.activeUp(true);
      t.risePasses = 0;
      String why = check.rise() + " passing probes: " + result.detail();
      changed = health.reconcile(fx, Transition.Cause.PROBE, why, now);
    }
    // Only a first ejection ends early: a repeated one (the count has not decayed) is a
    // flapping endpoint, and a probe passing in its up phase would let it straight back in.
    if (od != null
        && od.activeCheckEndsEjection()
        && health.breaker() == BreakerState.OPEN
        && m.outlier.ejections() <= 1) {
      String why = "active check passed (" + result.detail() + ")";
      changed |= outliers.endEjection(fx, m, why, now);
    }
    return changed;
  }

  private boolean failed(Effects fx, Member m, HealthCheck check, ProbeResult result, long now) {
    Track t = m.probe;
    EndpointHealth health = m.health();
    t.risePasses = 0;
    if (health.activeUp() && ++t.fallFailures >= check.fall()) {
      health.activeUp(false);
      t.fallFailures = 0;
      String why = check.fall() + " failed probes: " + result.detail();
      return health.reconcile(fx, Transition.Cause.PROBE, why, now);
    }
    return false;
  }

  private long jittered(Duration interval, HealthCheck check) {
    return (long) (interval.toNanos() * (1.0 + check.jitter() * (2 * pool.uniform() - 1)));
  }
}
