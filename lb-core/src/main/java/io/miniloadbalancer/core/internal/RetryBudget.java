package io.miniloadbalancer.core.internal;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * One balancer's retry budget, shared by every caller of the balancer. A retry needs both:
 *
 * <ul>
 *   <li><b>Concurrency</b> (Envoy's retry budget): retries in flight stay under {@code
 *       max(minPerSecond, ratio x requests in flight)}. A retry is in flight from its grant until
 *       its lease ends, or until it is refunded.
 *   <li><b>Rate</b>: a retry spends a token, and each request adds {@code ratio} of one, but the
 *       bucket holds at most one token, so nothing saved in healthy times is spent in a burst when
 *       an outage starts (with a ratio above 1, one request's worth). Beyond the tokens, a reserve
 *       of {@code minPerSecond x window} retries in any sliding {@code window} keeps a quiet
 *       service able to retry.
 * </ul>
 *
 * <p>Hence in every window, retries are at most {@code ratio x requests + minPerSecond x window +
 * max(1, ratio)} (the credit carried), however many clients retry: an outage multiplies traffic by
 * at most about {@code 1 + ratio}.
 *
 * <h2>Design</h2>
 *
 * <p>Lock-free. Tokens are counted in thousandths in one atomic; a request writes only when the
 * bucket is not full, so in healthy times it only reads. The reserve is a ring of the last reserve
 * grants' times (at most {@value #MAX_RESERVE} slots): a slot is reused only once its grant left
 * the window. Races (two grants past one bound at once) may err by a handful of retries. A grant
 * whose lease never starts and is never refunded (its caller went away in the backoff) is forgotten
 * after a window without grants, so a lost grant cannot shrink the budget for good.
 */
public final class RetryBudget {

  private static final long TOKEN = 1000;
  private static final int MAX_RESERVE = 65_536;
  private static final int CAS_TRIES = 8;

  private final double ratio;
  private final long deposit;
  private final long cap;
  private final long minConcurrent;
  private final long windowNanos;
  private final AtomicLong tokens = new AtomicLong();
  private final AtomicLongArray reserveStamps;
  private final AtomicLong reserveCount = new AtomicLong();
  // Granted retries whose lease has not started yet, and retry leases open.
  private final AtomicLong pending = new AtomicLong();
  private final AtomicLong retryLeases = new AtomicLong();
  private volatile long lastGrantNanos = Long.MIN_VALUE;
  private final LongAdder granted = new LongAdder();
  private final LongAdder refused = new LongAdder();

  /**
   * @param ratio retries allowed per request, for example 0.2
   * @param minPerSecond retries allowed per second whatever the traffic, and retries always allowed
   *     in flight at once, for example 10
   * @param windowNanos the reserve's window, for example 1 s
   */
  public RetryBudget(double ratio, int minPerSecond, long windowNanos) {
    this.ratio = ratio;
    this.deposit = Math.round(ratio * TOKEN);
    // One retry's credit, or one request's when a request earns more (a ratio above 100%).
    this.cap = Math.max(TOKEN, deposit);
    this.minConcurrent = minPerSecond;
    this.windowNanos = windowNanos;
    long reserve = Math.round(minPerSecond * (windowNanos / 1e9));
    this.reserveStamps = new AtomicLongArray((int) Math.min(MAX_RESERVE, reserve));
    for (int i = 0; i < reserveStamps.length(); i++) {
      reserveStamps.set(i, Long.MIN_VALUE);
    }
  }

  /** Counts an original request (not a retry): adds its share of a token. */
  public void recordRequest(long nowNanos) {
    addTokens(deposit);
  }

  /**
   * Takes one retry from the budget if both bounds allow it.
   *
   * @param activeRequests the balancer's leases open now
   */
  public boolean tryWithdraw(long nowNanos, long activeRequests) {
    long allowedInFlight = Math.max(minConcurrent, (long) (ratio * activeRequests));
    if (inFlight(nowNanos) >= allowedInFlight || !(takeToken() || takeReserve(nowNanos))) {
      refused.increment();
      return false;
    }
    pending.incrementAndGet();
    lastGrantNanos = nowNanos;
    granted.increment();
    return true;
  }

  private boolean takeToken() {
    for (int k = 0; k < CAS_TRIES; k++) {
      long t = tokens.get();
      if (t < TOKEN) {
        return false;
      }
      if (tokens.compareAndSet(t, t - TOKEN)) {
        return true;
      }
    }
    return false;
  }

  private boolean takeReserve(long nowNanos) {
    int size = reserveStamps.length();
    for (int k = 0; size > 0 && k < CAS_TRIES; k++) {
      long count = reserveCount.get();
      int slot = (int) Math.floorMod(count, (long) size);
      long stamp = reserveStamps.get(slot);
      if (stamp != Long.MIN_VALUE && nowNanos - stamp < windowNanos) {
        return false; // the ring's oldest grant is still in the window: the reserve is spent
      }
      if (reserveCount.compareAndSet(count, count + 1)) {
        reserveStamps.set(slot, nowNanos);
        return true;
      }
    }
    return false;
  }

  /** A lease for a retry started: the grant it used is now in flight as that lease. */
  public void retryLeaseStarted() {
    retryLeases.incrementAndGet();
    decrementPending();
  }

  /** A lease started by {@link #retryLeaseStarted} ended. */
  public void retryLeaseEnded() {
    retryLeases.decrementAndGet();
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
    granted.decrement();
    decrementPending();
    addTokens(TOKEN);
  }

  private void addTokens(long amount) {
    for (int k = 0; k < CAS_TRIES; k++) {
      long t = tokens.get();
      long next = Math.min(cap, t + amount);
      if (next == t || tokens.compareAndSet(t, next)) {
        return;
      }
    }
  }

  private void decrementPending() {
    for (int k = 0; k < CAS_TRIES; k++) {
      long p = pending.get();
      if (p <= 0 || pending.compareAndSet(p, p - 1)) {
        return;
      }
    }
  }

  /** Retries in flight now: open retry leases and grants still waiting for theirs. */
  public long inFlight(long nowNanos) {
    long last = lastGrantNanos;
    if (last != Long.MIN_VALUE && nowNanos - last >= windowNanos && pending.get() > 0) {
      pending.set(0); // a window without grants: whatever still waits was abandoned
    }
    return retryLeases.get() + pending.get();
  }

  /** Retries the rate bound allows right now (the token, and the reserve not yet spent). */
  public long available(long nowNanos) {
    long free = 0;
    for (int i = 0; i < reserveStamps.length(); i++) {
      long stamp = reserveStamps.get(i);
      free += stamp == Long.MIN_VALUE || nowNanos - stamp >= windowNanos ? 1 : 0;
    }
    return tokens.get() / TOKEN + free;
  }
}
