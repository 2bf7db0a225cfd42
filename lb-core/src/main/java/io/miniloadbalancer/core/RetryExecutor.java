package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
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

    private final LoadBalancer balancer;
    private final RetryPolicy policy;

    RetryExecutor(LoadBalancer balancer, RetryPolicy policy) {
        this.balancer = balancer;
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
         *     java.util.concurrent.CancellationException} and {@link InterruptedException}, which
         *     end the request
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
            RequestContext context,
            boolean idempotent,
            Predicate<? super T> failed,
            Attempt<T> attempt) {
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
     * attempt's lease stays open in the returned {@link StreamingResult} while its value is
     * consumed: the endpoint's in-flight count then covers a streamed body, not only the time to
     * its first byte. Every other lease is completed before this returns; the held one when the
     * result is closed.
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
            Lease lease;
            try {
                lease = balancer.acquire(context);
            } catch (NoEndpointAvailableException e) {
                attempts.add(new RetryResult.Attempt(null, true, e.getMessage()));
                return StreamingResult.done(new RetryResult<>(null, e, attempts, false));
            }
            // From here on `lease` is the current attempt's, and the finally block below is what
            // makes
            // "every path" true: whatever escapes (a callback's exception, an Error), the lease
            // that was
            // current is closed, and a completed lease ignores the close.
            Lease held = null;
            try {
                RequestContext ctx = context;
                T value;
                Throwable error;
                boolean attemptFailed;
                long latency;
                boolean budgetExhausted = false;
                for (int i = 0; ; i++) {
                    String endpointId = lease.endpoint().id();
                    value = null;
                    error = null;
                    try {
                        value = attempt.call(lease);
                    } catch (java.util.concurrent.CancellationException e) {
                        // The caller cancelled the request: not the endpoint's fault, and nothing
                        // to retry for.
                        lease.close();
                        attempts.add(new RetryResult.Attempt(endpointId, true, "cancelled"));
                        return StreamingResult.done(new RetryResult<>(null, e, attempts, false));
                    } catch (InterruptedException e) {
                        // The caller is being stopped: not the endpoint's fault, and no time for
                        // retries.
                        Thread.currentThread().interrupt();
                        lease.close();
                        attempts.add(new RetryResult.Attempt(endpointId, true, "interrupted"));
                        return StreamingResult.done(new RetryResult<>(null, e, attempts, false));
                    } catch (Exception e) {
                        error = e;
                    }
                    latency = balancer.nanoTime() - lease.startNanos();
                    attemptFailed = error != null || failed.test(value);
                    attempts.add(
                            new RetryResult.Attempt(
                                    endpointId,
                                    attemptFailed,
                                    error != null
                                            ? error.toString()
                                            : attemptFailed ? "failed: " + value : "ok"));
                    if (!attemptFailed) {
                        break;
                    }
                    if (error != null) {
                        lease.complete(Outcome.FAILURE, latency, 0);
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
                        // Nothing to retry on: the failed value stays the answer, undiscarded.
                        balancer.retryBudget().refund(now);
                        attempts.add(
                                new RetryResult.Attempt(null, true, "no untried endpoint left"));
                        break;
                    }
                    Lease failedLease = lease;
                    lease = next;
                    try {
                        if (value != null) {
                            discard.accept(value);
                        }
                    } finally {
                        failedLease.complete(Outcome.FAILURE, latency, 0);
                    }
                }
                RetryResult<T> result = new RetryResult<>(value, error, attempts, budgetExhausted);
                Outcome outcome = attemptFailed ? Outcome.FAILURE : Outcome.SUCCESS;
                if (holdFinalLease && value != null && !lease.isDone()) {
                    held = lease;
                    return new StreamingResult<>(result, lease, outcome, latency);
                }
                lease.complete(outcome, latency, 0);
                return StreamingResult.done(result);
            } finally {
                if (held == null) {
                    lease.close();
                }
            }
        } finally {
            if (!nested) {
                RUNNING.remove();
            }
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
     * @return the request's tracker
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
         *
         * @return the backoff to wait in nanoseconds, or -1 when no retry is granted
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
        return "RetryExecutor[" + balancer.name() + ", " + policy + "]";
    }
}
