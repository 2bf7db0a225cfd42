package io.miniloadbalancer.core.internal;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One balancer's retry budget (Finagle's {@code RetryBudget}, Linkerd's): over a sliding window,
 * retries may be at most {@code ratio} of requests plus {@code minPerSecond x window} as a reserve
 * for quiet periods. Shared by every caller of the balancer, so an outage cannot multiply traffic
 * by more than {@code 1 + ratio} however many clients retry.
 *
 * <p>The window is one bucket per second of the ticker. Lock-free: a bucket is recycled by the
 * first thread that sees it stale (compare-and-set on its second); counts racing with that reset
 * may be lost, which only errs by a handful of requests at a second boundary.
 */
public final class RetryBudget {

  private static final long SECOND = 1_000_000_000L;

  private final double ratio;
  private final long reserve;
  private final int seconds;
  private final AtomicLongArray epochs;
  private final AtomicLongArray requests;
  private final AtomicLongArray retries;
  private final java.util.concurrent.atomic.LongAdder granted =
      new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder refused =
      new java.util.concurrent.atomic.LongAdder();

  /**
   * @param ratio retries allowed per request, for example 0.2
   * @param minPerSecond retries allowed per second whatever the traffic, for example 10
   * @param windowSeconds the window, for example 10
   */
  public RetryBudget(double ratio, int minPerSecond, int windowSeconds) {
    this.ratio = ratio;
    this.reserve = (long) minPerSecond * windowSeconds;
    this.seconds = windowSeconds;
    this.epochs = new AtomicLongArray(windowSeconds);
    this.requests = new AtomicLongArray(windowSeconds);
    this.retries = new AtomicLongArray(windowSeconds);
    for (int i = 0; i < windowSeconds; i++) {
      epochs.set(i, Long.MIN_VALUE);
    }
  }

  /** Counts an original request (not a retry). */
  public void recordRequest(long nowNanos) {
    requests.incrementAndGet(bucket(nowNanos));
  }

  /** Takes one retry from the budget if there is one. */
  public boolean tryWithdraw(long nowNanos) {
    int b = bucket(nowNanos);
    if (available(nowNanos) <= 0) {
      refused.increment();
      return false;
    }
    retries.incrementAndGet(b);
    granted.increment();
    return true;
  }

  /** Retries granted since start (refunds deducted). */
  public long granted() {
    return granted.sum();
  }

  /** Retries refused since start. */
  public long refused() {
    return refused.sum();
  }

  /** Returns a retry taken by {@link #tryWithdraw} that was not used (no endpoint was left). */
  public void refund(long nowNanos) {
    retries.decrementAndGet(bucket(nowNanos));
    granted.decrement();
  }

  /** Retries the budget allows right now. */
  public long available(long nowNanos) {
    long second = Math.floorDiv(nowNanos, SECOND);
    long req = 0;
    long ret = 0;
    for (int i = 0; i < seconds; i++) {
      long epoch = epochs.get(i);
      if (epoch > second - seconds && epoch <= second) {
        req += requests.get(i);
        ret += retries.get(i);
      }
    }
    return (long) (ratio * req) + reserve - ret;
  }

  private int bucket(long nowNanos) {
    long second = Math.floorDiv(nowNanos, SECOND);
    int i = (int) Math.floorMod(second, (long) seconds);
    long epoch = epochs.get(i);
    if (epoch != second && epochs.compareAndSet(i, epoch, second)) {
      requests.set(i, 0);
      retries.set(i, 0);
    }
    return i;
  }
}
