package io.miniloadbalancer.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * One blocking {@link RetryExecutor#execute} call: the attempts, their leases and their story. The
 * retry decisions (policy, shared budget, backoff) are its {@link RetryExecutor.RetryTracker}'s,
 * the same engine a non-blocking caller drives itself; this class only adds the loop around it,
 * which parks the calling thread for the backoff.
 *
 * <p>{@link #lease} is always the current attempt's: {@link #run}'s finally block closes it, which
 * is what makes "every lease is completed before execute returns" true whatever escapes (a
 * callback's exception, an Error), and a completed lease ignores the close.
 */
final class RetryLoop<T> {

  private final DataPath data;
  private final RetryExecutor.RetryTracker tracker;
  private final Predicate<? super T> failed;
  private final Consumer<? super T> discard;
  private final RetryExecutor.Attempt<T> attempt;
  private final List<RetryResult.Attempt> attempts = new ArrayList<>();

  private @Nullable Lease lease;
  private @Nullable T value;
  private @Nullable Throwable error;
  private boolean attemptFailed;
  private long latency;

  RetryLoop(
      DataPath data,
      RetryExecutor.RetryTracker tracker,
      Predicate<? super T> failed,
      Consumer<? super T> discard,
      RetryExecutor.Attempt<T> attempt) {
    this.data = data;
    this.tracker = tracker;
    this.failed = failed;
    this.discard = discard;
    this.attempt = attempt;
  }

  StreamingResult<T> run(RequestContext context, boolean holdFinalLease) {
    try {
      lease = data.acquire(context);
    } catch (NoEndpointAvailableException e) {
      attempts.add(new RetryResult.Attempt(null, true, e.getMessage()));
      return StreamingResult.done(new RetryResult<>(null, e, attempts, false));
    }
    Lease held = null;
    try {
      RetryResult<T> stopped = attempts(context);
      if (stopped != null) {
        return StreamingResult.done(stopped);
      }
      Lease last = current();
      RetryResult<T> result = new RetryResult<>(value, error, attempts, tracker.budgetExhausted());
      Outcome outcome = attemptFailed ? Outcome.FAILURE : Outcome.SUCCESS;
      if (holdFinalLease && value != null && !last.isDone()) {
        held = last;
        return new StreamingResult<>(result, last, outcome, latency);
      }
      last.complete(outcome, latency);
      return StreamingResult.done(result);
    } finally {
      if (held == null) {
        current().close();
      }
    }
  }

  /**
   * Runs attempts until one succeeds or no retry is left; the last one's lease is {@link
   * #current()}, still open unless the attempt completed it.
   *
   * @return the result when the caller stopped the request (cancelled, interrupted), else null
   */
  private @Nullable RetryResult<T> attempts(RequestContext context) {
    RequestContext ctx = context;
    while (true) {
      Lease l = current();
      String endpointId = l.endpoint().id();
      RetryResult<T> stopped = attemptOnce(l, endpointId);
      if (stopped != null || !attemptFailed) {
        return stopped;
      }
      if (error != null) {
        l.complete(Outcome.FAILURE, latency);
      }
      long wait = tracker.grant();
      if (wait < 0) {
        return null;
      }
      ctx = ctx.excluding(endpointId);
      if (!park(wait)) {
        tracker.refund();
        return null;
      }
      Lease next;
      try {
        next = data.acquire(ctx);
      } catch (NoEndpointAvailableException e) {
        // Nothing to retry on: the failed value stays the answer, undiscarded.
        tracker.refund();
        attempts.add(new RetryResult.Attempt(null, true, "no untried endpoint left"));
        return null;
      }
      lease = next;
      try {
        if (value != null) {
          discard.accept(value);
        }
      } finally {
        l.complete(Outcome.FAILURE, latency);
      }
    }
  }

  /** One attempt on {@code l}; sets value, error, latency and attemptFailed. */
  private @Nullable RetryResult<T> attemptOnce(Lease l, String endpointId) {
    value = null;
    error = null;
    try {
      value = attempt.call(l);
    } catch (CancellationException e) {
      // The caller cancelled the request: not the endpoint's fault, nothing to retry for.
      return stop(l, endpointId, "cancelled", e);
    } catch (InterruptedException e) {
      // The caller is being stopped: not the endpoint's fault, and no time for retries.
      Thread.currentThread().interrupt();
      return stop(l, endpointId, "interrupted", e);
    } catch (Exception e) {
      error = e;
    }
    latency = data.nanoTime() - l.startNanos();
    attemptFailed = error != null || failed.test(value);
    String detail = error != null ? error.toString() : attemptFailed ? "failed: " + value : "ok";
    attempts.add(new RetryResult.Attempt(endpointId, attemptFailed, detail));
    return null;
  }

  private RetryResult<T> stop(Lease l, String endpointId, String why, Exception e) {
    l.close();
    attempts.add(new RetryResult.Attempt(endpointId, true, why));
    return new RetryResult<>(null, e, attempts, false);
  }

  private Lease current() {
    Lease l = lease;
    if (l == null) {
      throw new IllegalStateException("no lease");
    }
    return l;
  }

  /** Waits the backoff; false when the thread was interrupted meanwhile. */
  private static boolean park(long nanos) {
    if (nanos > 0) {
      LockSupport.parkNanos(nanos);
    }
    return !Thread.currentThread().isInterrupted();
  }
}
