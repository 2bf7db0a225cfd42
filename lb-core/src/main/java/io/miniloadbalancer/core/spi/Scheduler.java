package io.miniloadbalancer.core.spi;

/**
 * Runs a task once after a delay, on the balancer's time scale. The balancer uses it for probe
 * rounds, ejection expiry, drain deadlines and slow-start steps; tasks only hand work to the
 * balancer's control context, so they are short and never block.
 *
 * <p>Tests pair a fake {@link Ticker} with a scheduler that runs due tasks as the fake time moves,
 * so every timing behaviour is tested without sleeping.
 */
@FunctionalInterface
public interface Scheduler {

  /**
   * Runs {@code task} once, no earlier than {@code delayNanos} from now.
   *
   * @param task what to run; it must not block
   * @param delayNanos how long from now, in nanoseconds (0 or less: as soon as possible)
   * @return a handle that cancels the task if it has not started
   */
  Cancellable schedule(Runnable task, long delayNanos);

  /** A scheduled task's handle. */
  @FunctionalInterface
  interface Cancellable {

    /** Cancels the task if it has not started; idempotent. */
    void cancel();
  }
}
