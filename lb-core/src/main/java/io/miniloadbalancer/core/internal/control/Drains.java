package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.DrainResult;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.internal.control.EndpointHealth.Hold;
import io.miniloadbalancer.core.spi.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The holds put on an endpoint from outside its health: an operator drain (with callers waiting on
 * its result and a deadline), maintenance, a removal by the source (drains, then leaves the pool,
 * or leaves at the removal timeout), and the settling of drains once the endpoint is idle.
 *
 * <p>Settling runs after publishing: routable flags are already cleared, so an in-flight count of 0
 * read here cannot be followed by a new lease (see {@link EndpointRuntime}). A drain that admits
 * pinned sessions settles only once they have been quiet for the configured period, and closes the
 * session window before its final in-flight read, so the same holds for session leases.
 */
public final class Drains {

  private record Waiter(CompletableFuture<DrainResult> future, long startNanos) {}

  /** One endpoint's drain waiters and timers; its fields belong to {@link Drains}. */
  static final class Track {
    private final List<Waiter> waiters = new ArrayList<>();
    private Scheduler.@Nullable Cancellable drainDeadline;
    private Scheduler.@Nullable Cancellable removalDeadline;
    private Scheduler.@Nullable Cancellable sessionQuietCheck;

    void cancel() {
      Pool.cancel(drainDeadline);
      Pool.cancel(removalDeadline);
      Pool.cancel(sessionQuietCheck);
    }
  }

  private final Pool pool;
  private final TablePublisher publisher;
  private final ActiveHealth activeHealth;
  private final long removalTimeoutNanos;
  private final long sessionQuietNanos;

  /**
   * Drains that remove after at most {@code removalTimeoutNanos} and settle once pinned sessions
   * were quiet for {@code sessionQuietNanos}.
   */
  public Drains(
      Pool pool,
      TablePublisher publisher,
      ActiveHealth activeHealth,
      long removalTimeoutNanos,
      long sessionQuietNanos) {
    this.pool = pool;
    this.publisher = publisher;
    this.activeHealth = activeHealth;
    this.removalTimeoutNanos = removalTimeoutNanos;
    this.sessionQuietNanos = sessionQuietNanos;
  }

  // ---- operator drains

  /** Operator drain; {@code result} completes when it settles or at {@code timeout}. */
  public void drain(Effects fx, Member m, CompletableFuture<DrainResult> result, Duration timeout) {
    long now = pool.now();
    EndpointRuntime r = m.runtime();
    m.health().hold(Hold.OPERATOR_DRAIN, true);
    r.awaitIdle(true);
    String reason = "drained by operator; " + r.inFlight() + " in-flight";
    m.health().reconcile(fx, Transition.Cause.OPERATOR, reason, now);
    m.drain.waiters.add(new Waiter(result, now));
    m.health().drainAwaited(true);
    Track t = m.drain;
    Pool.cancel(t.drainDeadline);
    t.drainDeadline =
        pool.later(
            timeout.toNanos(),
            later -> {
              if (pool.holds(m)) {
                completeWaiters(m, false);
              }
            });
    publisher.publish(fx);
    settle(fx);
  }

  /** Operator undrain: waiters learn the drain did not complete. */
  public void undrain(Effects fx, Member m) {
    EndpointHealth health = m.health();
    if (!health.hold(Hold.OPERATOR_DRAIN, false)) {
      return;
    }
    m.runtime().awaitIdle(health.held(Hold.REMOVAL));
    completeWaiters(m, false);
    health.reconcile(fx, Transition.Cause.OPERATOR, "undrained by operator", pool.now());
    publisher.publish(fx);
  }

  /**
   * Maintenance on or off. Coming out, the endpoint goes back through the active checks from down:
   * it was held out for a reason.
   */
  public void maintenance(Effects fx, Member m, boolean on, String reason) {
    if (!m.health().hold(Hold.MAINTENANCE, on)) {
      return;
    }
    String why = on ? reason : reason + activeHealth.recheckAfterMaintenance(m);
    m.health().reconcile(fx, Transition.Cause.OPERATOR, why, pool.now());
    publisher.publish(fx);
  }

  // ---- removal by the source

  /** The source no longer lists {@code m}: it drains, then leaves. */
  void startRemoval(Effects fx, Member m, long now) {
    EndpointRuntime r = m.runtime();
    m.health().hold(Hold.REMOVAL, true);
    r.awaitIdle(true);
    String reason = "removed by source; draining " + r.inFlight() + " in-flight";
    m.health().reconcile(fx, Transition.Cause.SOURCE, reason, now);
    m.drain.removalDeadline = pool.later(removalTimeoutNanos, later -> removalTimeout(later, m));
  }

  /** The source lists {@code m} again while it drained for removal: the removal is off. */
  void cancelRemoval(Member m) {
    m.health().hold(Hold.REMOVAL, false);
    Pool.cancel(m.drain.removalDeadline);
    m.runtime().awaitIdle(m.health().held(Hold.OPERATOR_DRAIN));
  }

  private void removalTimeout(Effects fx, Member m) {
    if (!pool.holds(m) || !m.health().held(Hold.REMOVAL)) {
      return;
    }
    String reason =
        "drain timeout after "
            + TimeUnit.NANOSECONDS.toMillis(removalTimeoutNanos)
            + " ms with "
            + m.runtime().inFlight()
            + " still in flight";
    finishRemoval(fx, m, reason);
  }

  private void finishRemoval(Effects fx, Member m, String reason) {
    m.cancelTimers();
    completeWaiters(m, m.runtime().inFlight() == 0);
    pool.retire(m);
    m.health().remove(fx, reason, pool.now());
    publisher.publish(fx);
  }

  // ---- settling

  /**
   * Completes every drain whose endpoint is idle and whose sessions are quiet; runs after
   * publishing.
   */
  public void settle(Effects fx) {
    for (Member m : pool.copy()) {
      if (m.runtime().inFlight() != 0) {
        continue;
      }
      boolean awaited = !m.drain.waiters.isEmpty();
      if (!(awaited || m.health().held(Hold.REMOVAL)) || !sessionsQuiet(m)) {
        continue;
      }
      if (awaited) {
        completeWaiters(m, true);
      }
      if (m.health().held(Hold.REMOVAL)) {
        finishRemoval(fx, m, "drained; no request in flight");
      }
    }
  }

  /**
   * Whether no pinned session may start a lease on this idle, draining endpoint any more. Closes
   * its session window when the sessions have been quiet long enough; re-opens it (and waits for
   * idle again) when a session lease slipped in meanwhile; schedules a re-check while they are
   * active.
   */
  private boolean sessionsQuiet(Member m) {
    EndpointRuntime r = m.runtime();
    if (!r.admitsSessions()) {
      return true;
    }
    long last = r.lastSessionLeaseNanos();
    long now = pool.now();
    if (last != Long.MIN_VALUE && now - last < sessionQuietNanos) {
      Track t = m.drain;
      Pool.cancel(t.sessionQuietCheck);
      t.sessionQuietCheck = pool.later(last + sessionQuietNanos - now, this::settle);
      return false;
    }
    r.admitSessions(false);
    if (r.inFlight() != 0) {
      // A session lease started before the window closed: it is seen; wait for it to end.
      r.admitSessions(true);
      return false;
    }
    m.health().sessionsSettled();
    return true;
  }

  private void completeWaiters(Member m, boolean completed) {
    Track t = m.drain;
    if (t.waiters.isEmpty()) {
      return;
    }
    List<Waiter> waiters = List.copyOf(t.waiters);
    t.waiters.clear();
    m.health().drainAwaited(false);
    Pool.cancel(t.drainDeadline);
    long now = pool.now();
    int open = completed ? 0 : m.runtime().inFlight();
    for (Waiter w : waiters) {
      Duration waited = Duration.ofNanos(now - w.startNanos());
      w.future().complete(new DrainResult(m.id(), completed, open, waited));
    }
    m.health().updateSessionAdmission();
  }
}
