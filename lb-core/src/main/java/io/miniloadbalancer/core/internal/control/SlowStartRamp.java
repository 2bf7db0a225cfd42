package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.PoolEvent;
import io.miniloadbalancer.core.SlowStart;
import io.miniloadbalancer.core.spi.Scheduler;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Slow start's clock: while any endpoint ramps (after a join or a recovery, see {@link
 * EndpointHealth}), the table is rebuilt every window / 20 (at least every 100 ms) so its weights
 * follow the ramp, and an endpoint that reached full weight stops ramping with an event. Runs at
 * the end of every control step; one timer at most.
 */
public final class SlowStartRamp {

  private final Pool pool;
  private final Journal journal;
  private final TablePublisher publisher;
  private final @Nullable SlowStart slowStart;
  private Scheduler.@Nullable Cancellable task;

  /** Ramps by {@code slowStart}, or never when it is null. */
  public SlowStartRamp(
      Pool pool, Journal journal, TablePublisher publisher, @Nullable SlowStart slowStart) {
    this.pool = pool;
    this.journal = journal;
    this.publisher = publisher;
    this.slowStart = slowStart;
  }

  /** Arms the timer if an endpoint ramps and none is armed. */
  public void ensureRunning() {
    SlowStart ss = slowStart;
    if (ss == null || task != null || pool.closed()) {
      return;
    }
    boolean any = false;
    for (Member m : pool.members()) {
      any |= m.health().ramping();
    }
    if (any) {
      long step = Math.max(ss.window().toNanos() / 20, TimeUnit.MILLISECONDS.toNanos(100));
      task = pool.later(step, this::step);
    }
  }

  /** Stops the timer. */
  public void stop() {
    Pool.cancel(task);
  }

  private void step(Effects fx) {
    task = null;
    SlowStart ss = slowStart;
    if (ss == null || pool.closed()) {
      return;
    }
    long now = pool.now();
    for (Member m : pool.members()) {
      EndpointHealth health = m.health();
      if (health.ramping() && now - health.rampStartNanos() >= ss.window().toNanos()) {
        health.endRamp();
        journal.event(
            fx,
            PoolEvent.Kind.SLOW_START_DONE,
            m.id(),
            "full weight after " + ss.window().toMillis() + " ms");
      }
    }
    publisher.publish(fx);
  }
}
