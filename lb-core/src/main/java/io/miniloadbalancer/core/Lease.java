package io.miniloadbalancer.core;

import io.miniloadbalancer.core.internal.EndpointRuntime;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One request's hold on an endpoint, from {@link LoadBalancer#acquire} until it is completed.
 *
 * <p>While a lease is open it counts in its endpoint's in-flight total, which least-connections,
 * p2c, bounded-load hashing and draining all read. End it exactly once with an outcome; further
 * calls are ignored, so {@code complete} followed by {@code close} (as try-with-resources does) is
 * safe, and {@code close} alone releases the lease as {@link Outcome#CANCELLED}:
 *
 * <pre>{@code
 * try (Lease lease = balancer.acquire(RequestContext.none())) {
 *   Response r = call(lease.endpoint());
 *   if (r.code() >= 500) lease.failure(); else lease.success();
 * }
 * }</pre>
 *
 * <p>Thread-safe: any thread may complete a lease, and concurrent completions are resolved by one
 * compare-and-set (the first wins). A lease is the one object the data path allocates per request.
 */
public final class Lease implements AutoCloseable {

  private static final VarHandle DONE;

  static {
    try {
      DONE = MethodHandles.lookup().findVarHandle(Lease.class, "done", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final DataPath data;
  private final EndpointRuntime runtime;
  private final Endpoint endpoint;
  private final long startNanos;
  private final boolean countedInTotal;
  private final boolean trial;
  private final boolean retry;
  private volatile boolean done;

  Lease(
      DataPath data,
      EndpointRuntime runtime,
      long startNanos,
      boolean countedInTotal,
      boolean trial,
      boolean retry) {
    this.data = data;
    this.runtime = runtime;
    this.endpoint = runtime.endpoint();
    this.startNanos = startNanos;
    this.countedInTotal = countedInTotal;
    this.trial = trial;
    this.retry = retry;
  }

  /**
   * The endpoint this request must go to, as it was defined when the lease was taken.
   *
   * @return the endpoint this request must go to, as it was defined when the lease was taken
   */
  public Endpoint endpoint() {
    return endpoint;
  }

  /**
   * When the lease was taken, on the balancer's ticker.
   *
   * @return when the lease was taken, on the balancer's ticker
   */
  public long startNanos() {
    return startNanos;
  }

  /**
   * Whether the lease has been completed or closed.
   *
   * @return whether the lease has been completed or closed
   */
  public boolean isDone() {
    return done;
  }

  /** Completes as {@link Outcome#SUCCESS}, timing the request from acquisition until now. */
  public void success() {
    long now = data.nanoTime();
    finish(Outcome.SUCCESS, now - startNanos, now);
  }

  /** Completes as {@link Outcome#FAILURE}, timing the request from acquisition until now. */
  public void failure() {
    long now = data.nanoTime();
    finish(Outcome.FAILURE, now - startNanos, now);
  }

  /**
   * Completes as {@link Outcome#OVERLOADED}: the endpoint answered 429, or 503 with Retry-After.
   * The endpoint is penalized for {@code retryAfter} (capped by the balancer's {@code maxPenalty}):
   * {@code p2c-ewma} prices the pause in, the other strategies skip the endpoint until it ends. Not
   * a health failure: it does not count toward ejection.
   *
   * @param retryAfter the pause asked for; zero or negative when the response gave none (then 1 s)
   */
  public void overloaded(java.time.Duration retryAfter) {
    long now = data.nanoTime();
    if (finish(Outcome.OVERLOADED, now - startNanos, now)) {
      long cap = data.maxPenaltyNanos();
      long pause =
          retryAfter.isNegative() || retryAfter.isZero()
              ? Math.min(1_000_000_000L, cap)
              : retryAfter.compareTo(java.time.Duration.ofNanos(cap)) > 0
                  ? cap
                  : retryAfter.toNanos();
      runtime.penalize(now + pause);
    }
  }

  /**
   * Completes with an outcome the caller measured. {@link Outcome#OVERLOADED} here penalizes the
   * endpoint for 1 s; use {@link #overloaded} to pass the Retry-After. {@link HttpOutcomes#outcome}
   * maps an HTTP answer to its outcome.
   *
   * @param outcome how the request ended
   * @param latencyNanos how long it took, on the balancer's ticker scale, or a negative value when
   *     unknown (then no EWMA sample is taken)
   */
  public void complete(Outcome outcome, long latencyNanos) {
    if (outcome == null) {
      throw new NullPointerException("outcome");
    }
    // The caller timed the request: its end is start + latency, no need to read the ticker
    // again.
    long end = latencyNanos >= 0 ? startNanos + latencyNanos : data.nanoTime();
    if (finish(outcome, latencyNanos, end) && outcome == Outcome.OVERLOADED) {
      runtime.penalize(end + Math.min(1_000_000_000L, data.maxPenaltyNanos()));
    }
  }

  /**
   * Releases the lease as {@link Outcome#CANCELLED} unless it was already completed, timing it: how
   * long it was open is a lower bound on the endpoint's latency ({@code p2c-ewma} prices it in),
   * and past the outlier detection's {@code slowRequestThreshold} the cancellation counts as a
   * failure. A lease whose end says nothing about the endpoint (a finished tunnel) should end with
   * {@code complete(Outcome.CANCELLED, -1)} instead, which carries no time.
   */
  @Override
  public void close() {
    if (!done) {
      long now = data.nanoTime();
      finish(Outcome.CANCELLED, Math.max(0L, now - startNanos), now);
    }
  }

  private boolean finish(Outcome outcome, long latencyNanos, long nowNanos) {
    if (!DONE.compareAndSet(this, false, true)) {
      return false;
    }
    runtime.completeLease(outcome, latencyNanos, nowNanos, trial);
    data.leaseEnded(endpoint, outcome, latencyNanos, countedInTotal, retry);
    return true;
  }

  @Override
  public String toString() {
    return "Lease[" + endpoint.id() + (done ? ", done]" : ", open]");
  }
}
