package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.spi.Scheduler;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The default {@link Scheduler}: one daemon thread per balancer, started on first use (most
 * balancers without health checks never schedule anything) and stopped by {@link #shutdown()}.
 */
public final class SystemScheduler implements Scheduler {

  private final String threadName;
  private volatile ScheduledExecutorService executor;
  private volatile boolean shutdown;

  /** A scheduler whose thread will be called {@code threadName}. */
  public SystemScheduler(String threadName) {
    this.threadName = threadName;
  }

  @Override
  public Cancellable schedule(Runnable task, long delayNanos) {
    ScheduledExecutorService e = executor();
    if (e == null) {
      return () -> {};
    }
    ScheduledFuture<?> future = e.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
    return () -> future.cancel(false);
  }

  private synchronized ScheduledExecutorService executor() {
    if (shutdown) {
      return null;
    }
    if (executor == null) {
      ScheduledThreadPoolExecutor e =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, threadName);
                t.setDaemon(true);
                return t;
              });
      e.setRemoveOnCancelPolicy(true);
      executor = e;
    }
    return executor;
  }

  /** Stops the thread; later schedules are ignored. */
  public synchronized void shutdown() {
    shutdown = true;
    if (executor != null) {
      executor.shutdownNow();
    }
  }
}
