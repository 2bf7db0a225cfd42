package io.miniloadbalancer.core;

import io.miniloadbalancer.core.spi.Scheduler;
import io.miniloadbalancer.core.spi.Ticker;
import java.time.Duration;
import java.util.PriorityQueue;

/**
 * A fake clock and scheduler in one: {@link #advance} moves time and runs every task that falls due
 * on the way, in order, on the calling thread. Tests drive health checks, ejections and ramps
 * through it instead of sleeping.
 */
final class FakeTime implements Ticker, Scheduler {

  private record Task(long due, long seq, Runnable run, boolean[] cancelled) {}

  private final PriorityQueue<Task> tasks =
      new PriorityQueue<>(
          (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.seq, b.seq));
  private long now = 1_000_000_000L;
  private long seq;

  @Override
  public synchronized long read() {
    return now;
  }

  @Override
  public synchronized Cancellable schedule(Runnable task, long delayNanos) {
    boolean[] cancelled = {false};
    tasks.add(new Task(now + Math.max(0, delayNanos), seq++, task, cancelled));
    return () -> cancelled[0] = true;
  }

  /** Moves time forward by {@code d}, running due tasks on the way. */
  void advance(Duration d) {
    long target;
    synchronized (this) {
      target = now + d.toNanos();
    }
    while (true) {
      Task next;
      synchronized (this) {
        next = tasks.peek();
        if (next == null || next.due > target) {
          now = target;
          return;
        }
        tasks.poll();
        now = Math.max(now, next.due);
      }
      if (!next.cancelled[0]) {
        next.run.run();
      }
    }
  }

  /** Runs the tasks due now. */
  void runDue() {
    advance(Duration.ZERO);
  }
}
