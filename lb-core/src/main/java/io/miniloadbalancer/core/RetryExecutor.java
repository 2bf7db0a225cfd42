package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Runs a request with bounded failover retries: idempotent requests only, each retry on an endpoint
 * not yet tried for this request, after a full-jitter backoff, and only while the balancer's retry
 * budget (shared by every caller) allows. Naive retries multiply an outage's traffic; these add at
 * most the budget's share.
 *
 * <pre>{@code
 * RetryExecutor retries = balancer.retries(RetryPolicy.defaults());
 * RetryResult<String> r = retries.execute(RequestContext.none(), true,
 *     body -> body.startsWith("error"),             // which values are failures
 *     lease -> call(lease.endpoint()));             // no lease bookkeeping needed
 * }</pre>
 *
 * <h2>Who owns the lease</h2>
 *
 * <p>The executor does, on every path. It acquires each attempt's lease and completes it exactly
 * once: after a returned value, as {@link Outcome#FAILURE} when {@code failed} judges it so and
 * {@link Outcome#SUCCESS} otherwise, timed from acquisition until the attempt returned; after an
 * exception, as a failure; after a {@link java.util.concurrent.CancellationException} (the caller
 * gave up) or an {@link InterruptedException}, as {@link Outcome#CANCELLED}, with no retry; when a
 * callback or the attempt throws anything else (an {@code Error} included), as cancelled before the
 * throwable propagates. A failed value that is retried is handed to {@code discard} first (by
 * default: closed when it is {@link AutoCloseable}). So {@link #execute execute} returns with no
 * lease of its own left open, whatever the attempt did.
 *
 * <p>An attempt may still complete its lease itself, when it knows more than {@code failed} can say
 * (a 429 with {@code Retry-After}: {@link Lease#overloaded}); the executor's completion then finds
 * it done and does nothing. It must not keep the lease: once the attempt returns, the lease is the
 * executor's.
 *
 * <p>A value that is still being consumed after the call returns (a streamed response body) needs
 * its endpoint counted as busy until it is consumed: {@link #executeStreaming executeStreaming}
 * returns a {@link StreamingResult} that holds the final attempt's lease until it is closed, and is
 * {@link AutoCloseable} so the compiler and IDEs see who must close it.
 *
 * <p>Retries never nest: an {@code execute} called from inside an attempt, on the same thread, runs
 * its request once, so stacked clients cannot multiply each other's retries.
 *
 * <p>The loop is ours rather than Failsafe's {@code RetryPolicy}: each retry must exclude the
 * endpoints tried so far, draw from a budget shared across callers, and stop when no untried
 * endpoint is left, all decisions that need the lease and the balancer at every attempt. Blocking
 * (the backoff parks the calling thread); thread-safe.
 */
public final class RetryExecutor {

  private static final ThreadLocal<Boolean> RUNNING = new ThreadLocal<>();

  private final DataPath data;
  private final RetryPolicy policy;

  RetryExecutor(DataPath data, RetryPolicy policy) {
    this.data = data;
    this.policy = policy;
  }

  /**
   * Does one request's work on the endpoint of a lease the executor owns.
   *
   * @param <T> the value an attempt returns
   */
  @FunctionalInterface
  public interface Attempt<T> {
    /**
     * Runs the request on {@code lease.endpoint()}.
     *
     * @param lease the attempt's lease; the executor completes it (see {@link RetryExecutor})
     * @return a value {@code failed} judges
     * @throws Exception when the attempt failed; retried like a failed value, except {@link
     *     java.util.concurrent.CancellationException} and {@link InterruptedException}, which end
     *     the request
     */
    T call(Lease lease) throws Exception;
  }

  /**
   * Runs {@code attempt}, retrying as described above; a failed value that is retried is closed
   * when it is {@link AutoCloseable}. Every lease is completed before this returns.
   *
   * @param context the request's key (kept across attempts; tried endpoints are added to it)
   * @param idempotent whether the request may be sent twice (by method, see {@link
   *     RetryPolicy#isIdempotent}, or by an explicit opt-in such as an idempotency key)
   * @param failed judges a returned value (for example a 5xx response); exceptions always fail
   * @param attempt the request
   * @param <T> the attempt's value type
   * @return the last attempt's value or error, with every attempt's story; never throws for a
   *     failed attempt
   */
  public <T> RetryResult<T> execute(
      RequestContext context, boolean idempotent, Predicate<? super T> failed, Attempt<T> attempt) {
    return execute(context, idempotent, failed, RetryExecutor::closeIfCloseable, attempt);
  }

  /**
   * As {@link #execute(RequestContext, boolean, Predicate, Attempt)}, handing each failed value
   * that is retried to {@code discard} (to release it, say) instead of closing it.
   *
   * @param context the request's key
   * @param idempotent whether the request may be sent twice
   * @param failed judges a returned value
   * @param discard releases a failed value that is replaced by a retry
   * @param attempt the request
   * @param <T> the attempt's value type
   * @return the last attempt's value or error, with every attempt's story
   */
  public <T> RetryResult<T> execute(
      RequestContext context,
      boolean idempotent,
      Predicate<? super T> failed,
      Consumer<? super T> discard,
      Attempt<T> attempt) {
    return run(context, idempotent, failed, discard, attempt, false).result();
  }

  /**
   * As {@link #execute(RequestContext, boolean, Predicate, Consumer, Attempt)}, but the final
   * attempt's lease stays open in the returned {@link StreamingResult} while its value is consumed:
   * the endpoint's in-flight count then covers a streamed body, not only the time to its first
   * byte. Every other lease is completed before this returns; the held one when the result is
   * closed.
   *
   * <pre>{@code
   * try (StreamingResult<InputStream> r = retries.executeStreaming(RequestContext.none(), true,
   *     in -> false, InputStream::close, lease -> open(lease.endpoint()))) {
   *   r.value().transferTo(out);            // the endpoint counts this request until close()
   * }
   * }</pre>
   *
   * @param context the request's key
   * @param idempotent whether the request may be sent twice
   * @param failed judges a returned value
   * @param discard releases a failed value that is replaced by a retry
   * @param attempt the request
   * @param <T> the attempt's value type
   * @return the result, holding the final value's lease until closed
   */
  public <T> StreamingResult<T> executeStreaming(
      RequestContext context,
      boolean idempotent,
      Predicate<? super T> failed,
      Consumer<? super T> discard,
      Attempt<T> attempt) {
    return run(context, idempotent, failed, discard, attempt, true);
  }

  private <T> StreamingResult<T> run(
      RequestContext context,
      boolean idempotent,
      Predicate<? super T> failed,
      Consumer<? super T> discard,
      Attempt<T> attempt,
      boolean holdFinalLease) {
    requireNonNull(context, "context");
    requireNonNull(discard, "discard");
    requireNonNull(failed, "failed");
    requireNonNull(attempt, "attempt");
    if (RUNNING.get() != null) {
      // A nested request is part of its outer one: it runs once, and counting it would
      // inflate the budget.
      return new RetryLoop<>(data, new RetryTracker(data, policy, 0), failed, discard, attempt)
          .run(context, holdFinalLease);
    }
    RUNNING.set(Boolean.TRUE);
    try {
      RetryTracker tracker = track(idempotent);
      return new RetryLoop<>(data, tracker, failed, discard, attempt).run(context, holdFinalLease);
    } finally {
      RUNNING.remove();
    }
  }

  private static void closeIfCloseable(Object value) {
    if (value instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        // A failed value's release failing changes nothing: it is replaced by the retry.
      }
    }
  }

  /**
   * Starts one request for a caller that cannot block (an event loop): the same decisions as {@link
   * #execute}, the loop left to the caller. Counts the request for the retry budget.
   *
   * @param idempotent whether the request may be sent twice
   * @return the request's tracker
   */
  public RetryTracker track(boolean idempotent) {
    data.retryBudget().recordRequest(data.nanoTime());
    return new RetryTracker(data, policy, idempotent ? policy.maxRetries() : 0);
  }

  /**
   * One request's retries: the engine behind both {@link #execute} (which drives it in a loop) and
   * non-blocking callers (which drive it themselves). Ask {@link #grant()} after a failed attempt;
   * when it grants, wait the returned backoff, exclude the failed endpoint and acquire again (and
   * {@link #refund()} if no endpoint is left). Not thread-safe: one request, one owner.
   */
  public static final class RetryTracker {
    private final DataPath data;
    private final RetryPolicy policy;
    private final int maxRetries;
    private int retries;
    private boolean budgetExhausted;
    private long grantedAtNanos;

    RetryTracker(DataPath data, RetryPolicy policy, int maxRetries) {
      this.data = data;
      this.policy = policy;
      this.maxRetries = maxRetries;
    }

    /**
     * Asks for one more retry: the backoff to wait in nanoseconds when granted, or -1 when the
     * policy (not idempotent, retries used up) or the shared budget says no.
     *
     * @return the backoff to wait in nanoseconds, or -1 when no retry is granted
     */
    public long grant() {
      if (retries >= maxRetries) {
        return -1;
      }
      long now = data.nanoTime();
      if (!data.retryBudget().tryWithdraw(now, data.activeRequests())) {
        budgetExhausted = true;
        return -1;
      }
      grantedAtNanos = now;
      retries++;
      return backoffNanos();
    }

    /** Full jitter: a random wait in {@code [0, min(cap, base x 2^(retry - 1))]}. */
    private long backoffNanos() {
      long cap = policy.backoffCap().toNanos();
      long bound = Math.min(cap, policy.backoffBase().toNanos() << Math.min(retries - 1, 20));
      return bound > 0 ? ThreadLocalRandom.current().nextLong(bound + 1) : 0;
    }

    /** Gives the last granted retry back (it could not be used: no untried endpoint left). */
    public void refund() {
      data.retryBudget().refund(grantedAtNanos);
    }

    /**
     * Retries granted so far.
     *
     * @return retries granted so far
     */
    public int retries() {
      return retries;
    }

    /**
     * Whether a retry was refused by the shared budget.
     *
     * @return whether a retry was refused by the shared budget
     */
    public boolean budgetExhausted() {
      return budgetExhausted;
    }
  }

  /**
   * The policy.
   *
   * @return the policy
   */
  public RetryPolicy policy() {
    return policy;
  }

  @Override
  public String toString() {
    return "RetryExecutor[" + data.name() + ", " + policy + "]";
  }
}
