package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;


/**
 * Runs a request with bounded failover retries: idempotent requests only, each retry on an endpoint
 * not yet tried for this request, after a full-jitter backoff, and only while the balancer's retry
 * budget (shared by every caller) allows. Naive retries multiply an outage's traffic; these add at
 * most the budget's share.
 *
 * <pre>{@code
 * RetryExecutor retries = balancer.retries(RetryPolicy.defaults());
 * RetryResult<Response> r = retries.execute(RequestContext.none(), true,
 *     response -> response.code() >= 500,
 *     lease -> call(lease.endpoint()));
 * }</pre>
 *
 * <p>The attempt function gets the lease and owns it: it completes it when the request really ends
 * (for a streamed body, when the body is closed), so the final attempt's lease stays open as long
 * as its value needs it. When an attempt threw, the executor completes its lease as a failure (a
 * no-op if the attempt already did). When a failed value is retried, the executor hands it to
 * {@code discard} (which releases it, for example closes a response) and then completes its lease
 * as a failure. An attempt that throws {@link java.util.concurrent.CancellationException} (the
 * caller gave up) ends the request at once: its lease is closed as cancelled and nothing is
 * retried. Retries never nest: an {@code execute} called from inside an attempt, on the same thread,
 * runs its request once, so stacked clients cannot multiply each other's retries.
 *
 * <p>The loop is ours rather than Failsafe's {@code RetryPolicy}: each retry must exclude the
 * endpoints tried so far, draw from a budget shared across callers, and stop when no untried
 * endpoint is left, all decisions that need the lease and the balancer at every attempt. Blocking
 * (the backoff parks the calling thread); thread-safe.
 */
public final class RetryExecutor {

  private static final ThreadLocal<Boolean> RUNNING = new ThreadLocal<>();

  private final LoadBalancer balancer;
  private final RetryPolicy policy;

  RetryExecutor(LoadBalancer balancer, RetryPolicy policy) {
    this.balancer = balancer;
    this.policy = policy;
  }

  /** Does one request's work on the endpoint of {@code lease}. */
  @FunctionalInterface
  public interface Attempt<T> {
    /** Runs the request; throws or returns a value {@code failed} may judge. */
    T call(Lease lease) throws Exception;
  }

  /**
   * Runs {@code attempt}, retrying as described above.
   *
   * @param context the request's key (kept across attempts; tried endpoints are added to it)
   * @param idempotent whether the request may be sent twice (by method, see {@link
   *     RetryPolicy#isIdempotent}, or by an explicit opt-in such as an idempotency key)
   * @param failed judges a returned value (for example a 5xx response); exceptions always fail
   * @return the last attempt's value or error, with every attempt's story; never throws for a
   *     failed attempt
   */
  public <T> RetryResult<T> execute(
      RequestContext context, boolean idempotent, Predicate<? super T> failed, Attempt<T> attempt) {
    return execute(context, idempotent, failed, value -> {}, attempt);
  }

  /**
   * As {@link #execute(RequestContext, boolean, Predicate, Attempt)}, handing each failed value that
   * is retried to {@code discard} first (to close a response, say).
   */
  public <T> RetryResult<T> execute(
      RequestContext context,
      boolean idempotent,
      Predicate<? super T> failed,
      java.util.function.Consumer<? super T> discard,
      Attempt<T> attempt) {
    requireNonNull(context, "context");
    requireNonNull(discard, "discard");
    requireNonNull(failed, "failed");
    requireNonNull(attempt, "attempt");
    boolean nested = RUNNING.get() != null;
    int maxRetries = idempotent && !nested ? policy.maxRetries() : 0;
    if (!nested) {
      RUNNING.set(Boolean.TRUE);
    }
    try {
      if (!nested) {
        // A nested request is part of its outer one: counting it would inflate the budget.
        balancer.retryBudget().recordRequest(balancer.nanoTime());
      }
      List<RetryResult.Attempt> attempts = new ArrayList<>();
      RequestContext ctx = context;
      T value = null;
      Throwable error = null;
      boolean budgetExhausted = false;
      Lease lease;
      try {
        lease = balancer.acquire(ctx);
      } catch (NoEndpointAvailableException e) {
        attempts.add(new RetryResult.Attempt(null, true, e.getMessage()));
        return new RetryResult<>(null, e, attempts, false);
      }
      for (int i = 0; ; i++) {
        String endpointId = lease.endpoint().id();
        boolean attemptFailed;
        String detail;
        try {
          value = attempt.call(lease);
          error = null;
          attemptFailed = failed.test(value);
          detail = attemptFailed ? "failed: " + value : "ok";
        } catch (java.util.concurrent.CancellationException e) {
          // The caller cancelled the request: not the endpoint's fault, and nothing to retry for.
          lease.close();
          attempts.add(new RetryResult.Attempt(endpointId, true, "cancelled"));
          return new RetryResult<>(null, e, attempts, false);
        } catch (InterruptedException e) {
          // The caller is being stopped: not the endpoint's fault, and no time for retries.
          Thread.currentThread().interrupt();
          lease.close();
          attempts.add(new RetryResult.Attempt(endpointId, true, "interrupted"));
          return new RetryResult<>(null, e, attempts, false);
        } catch (Exception e) {
          value = null;
          error = e;
          attemptFailed = true;
          detail = e.toString();
        } catch (Error e) {
          lease.close();
          throw e;
        }
        attempts.add(new RetryResult.Attempt(endpointId, attemptFailed, detail));
        if (!attemptFailed) {
          break;
        }
        if (error != null) {
          lease.failure();
        }
        if (i >= maxRetries) {
          break;
        }
        long now = balancer.nanoTime();
        if (!balancer.retryBudget().tryWithdraw(now)) {
          budgetExhausted = true;
          break;
        }
        ctx = ctx.excluding(endpointId);
        if (!backoff(i + 1)) {
          balancer.retryBudget().refund(now);
          break;
        }
        Lease next;
        try {
          next = balancer.acquire(ctx);
        } catch (NoEndpointAvailableException e) {
          // Nothing to retry on: the failed value stays the answer, undiscarded, its lease open.
          balancer.retryBudget().refund(now);
          attempts.add(new RetryResult.Attempt(null, true, "no untried endpoint left"));
          break;
        }
        if (value != null) {
          discard.accept(value);
        }
        lease.failure();
        lease = next;
      }
      return new RetryResult<>(value, error, attempts, budgetExhausted);
    } finally {
      if (!nested) {
        RUNNING.remove();
      }
    }
  }

  /** Waits the full-jitter backoff; false when the thread was interrupted meanwhile. */
  private boolean backoff(int retry) {
    long delay = backoffNanos(retry);
    if (delay > 0) {
      LockSupport.parkNanos(delay);
    }
    return !Thread.currentThread().isInterrupted();
  }

  private long backoffNanos(int retry) {
    long cap = policy.backoffCap().toNanos();
    long bound = Math.min(cap, policy.backoffBase().toNanos() << Math.min(retry - 1, 20));
    return bound > 0 ? java.util.concurrent.ThreadLocalRandom.current().nextLong(bound + 1) : 0;
  }

  /**
   * Starts one request for a caller that cannot block (an event loop): the same decisions as
   * {@link #execute}, the loop left to the caller. Counts the request for the retry budget.
   *
   * @param idempotent whether the request may be sent twice
   */
  public RetryTracker track(boolean idempotent) {
    balancer.retryBudget().recordRequest(balancer.nanoTime());
    return new RetryTracker(idempotent ? policy.maxRetries() : 0);
  }

  /**
   * One request's retries, for non-blocking callers: ask {@link #grant()} after a failed attempt;
   * when it grants, wait the returned backoff, exclude the failed endpoint and acquire again (and
   * {@link #refund()} if no endpoint is left). Not thread-safe: one request, one owner.
   */
  public final class RetryTracker {
    private final int maxRetries;
    private int retries;
    private boolean budgetExhausted;
    private long grantedAtNanos;

    private RetryTracker(int maxRetries) {
      this.maxRetries = maxRetries;
    }

    /**
     * Asks for one more retry: the backoff to wait in nanoseconds when granted, or -1 when the
     * policy (not idempotent, retries used up) or the shared budget says no.
     */
    public long grant() {
      if (retries >= maxRetries) {
        return -1;
      }
      long now = balancer.nanoTime();
      if (!balancer.retryBudget().tryWithdraw(now)) {
        budgetExhausted = true;
        return -1;
      }
      grantedAtNanos = now;
      retries++;
      return backoffNanos(retries);
    }

    /** Gives the last granted retry back (it could not be used: no untried endpoint left). */
    public void refund() {
      balancer.retryBudget().refund(grantedAtNanos);
    }

    /** Retries granted so far. */
    public int retries() {
      return retries;
    }

    /** Whether a retry was refused by the shared budget. */
    public boolean budgetExhausted() {
      return budgetExhausted;
    }
  }

  /** The policy. */
  public RetryPolicy policy() {
    return policy;
  }

  @Override
  public String toString() {
    return "RetryExecutor[" + balancer.name() + ", " + policy + "]";
  }

}
