package io.miniloadbalancer.core.internal;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The balancer's control executor: runs tasks one at a time, in submission order, on whichever
 * thread submitted while no other thread was draining (gRPC's {@code SynchronizationContext}).
 *
 * <p>It owns no thread, so a balancer costs none while idle, and a control operation called from a
 * test or an admin request runs before the call returns unless another thread is mid-drain. Tasks
 * must not block. A task that throws is logged; the queue goes on.
 */
public final class ControlContext implements Executor {

  private static final Logger LOG = LoggerFactory.getLogger(ControlContext.class);

  private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();
  private final AtomicReference<Thread> drainingThread = new AtomicReference<>();
  private final String name;

  /** A context named for log messages (the pool's name). */
  public ControlContext(String name) {
    this.name = name;
  }

  /** Queues {@code task} and drains the queue if no other thread is. */
  @Override
  public void execute(Runnable task) {
    queue.add(task);
    drain();
  }

  private void drain() {
    do {
      if (!drainingThread.compareAndSet(null, Thread.currentThread())) {
        return;
      }
      try {
        Runnable task;
        while ((task = queue.poll()) != null) {
          try {
            task.run();
          } catch (Throwable t) {
            LOG.error("pool '{}': control task failed; the balancer keeps its last state", name, t);
          }
        }
      } finally {
        drainingThread.set(null);
      }
      // A task queued after our last poll but before we released the context would be
      // stranded.
    } while (!queue.isEmpty());
  }

  /** Whether the calling thread is the one running control tasks right now. */
  public boolean inContext() {
    return drainingThread.get() == Thread.currentThread();
  }
}
