package io.miniloadbalancer.core;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@link RetryExecutor#executeStreaming} ended with: a {@link RetryResult} whose final value,
 * when there is one, still holds its attempt's lease, so the endpoint counts the request as in
 * flight while the value (a response body, say) is consumed. Every other attempt's lease is already
 * completed.
 *
 * <p>Close it when the value is consumed, in a {@code try}-with-resources block or from the code
 * that ends the stream: {@link #close()} completes the lease with the outcome the executor judged
 * (success, or failure for a failed value that was not retried) and the latency measured when the
 * attempt returned. {@link #fail()} and {@link #cancel()} end it otherwise, for a stream that broke
 * or that the caller abandoned. The first of these wins; later calls do nothing.
 *
 * <pre>{@code
 * try (StreamingResult<Response> r = retries.executeStreaming(...)) {
 *   if (r.value() != null) copy(r.value().body(), out);
 * }
 * }</pre>
 *
 * <p>Thread-safe: the lease resolves concurrent completions.
 *
 * @param <T> the attempt's value type
 */
public final class StreamingResult<T> implements AutoCloseable {

  private final RetryResult<T> result;
  private final @Nullable Lease lease;
  private final Outcome outcome;
  private final long latencyNanos;

  StreamingResult(
      RetryResult<T> result, @Nullable Lease lease, Outcome outcome, long latencyNanos) {
    this.result = result;
    this.lease = lease;
    this.outcome = outcome;
    this.latencyNanos = latencyNanos;
  }

  static <T> StreamingResult<T> done(RetryResult<T> result) {
    return new StreamingResult<>(result, null, Outcome.CANCELLED, -1L);
  }

  /**
   * Every attempt's story and the final value or error.
   *
   * @return the result
   */
  public RetryResult<T> result() {
    return result;
  }

  /**
   * The final attempt's value, as {@link RetryResult#value()}.
   *
   * @return the value, or null when the last attempt threw or no endpoint could be had
   */
  public @Nullable T value() {
    return result.value();
  }

  /**
   * The final attempt's error, as {@link RetryResult#error()}.
   *
   * @return the error, or null when the last attempt returned a value
   */
  public @Nullable Throwable error() {
    return result.error();
  }

  /**
   * Every attempt, as {@link RetryResult#attempts()}.
   *
   * @return the attempts, in order
   */
  public List<RetryResult.Attempt> attempts() {
    return result.attempts();
  }

  /**
   * The endpoint whose lease this result holds.
   *
   * @return the endpoint, or null when no lease is held (no value, or the attempt completed its
   *     lease itself)
   */
  public @Nullable Endpoint endpoint() {
    return lease == null ? null : lease.endpoint();
  }

  /**
   * Whether a lease is still held: true until the first {@link #close()}, {@link #fail()} or {@link
   * #cancel()} when the final attempt returned a value.
   *
   * @return whether the endpoint still counts this request as in flight
   */
  public boolean holdsLease() {
    return lease != null && !lease.isDone();
  }

  /** Completes the held lease with the judged outcome; does nothing when none is held. */
  @Override
  public void close() {
    if (lease != null) {
      lease.complete(outcome, latencyNanos);
    }
  }

  /**
   * Completes the held lease as {@link Outcome#FAILURE}: the stream broke on the endpoint's side.
   */
  public void fail() {
    if (lease != null) {
      lease.complete(Outcome.FAILURE, latencyNanos);
    }
  }

  /** Releases the held lease as {@link Outcome#CANCELLED}: the caller abandoned the stream. */
  public void cancel() {
    if (lease != null) {
      lease.close();
    }
  }

  @Override
  public String toString() {
    return "StreamingResult[" + result.describe() + (holdsLease() ? ", holding a lease]" : "]");
  }
}
