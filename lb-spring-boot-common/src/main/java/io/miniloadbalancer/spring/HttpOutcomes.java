package io.miniloadbalancer.spring;

import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.Outcome;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * The Spring clients' glue to lb-core's one table of HTTP outcome rules ({@link
 * io.miniloadbalancer.core.HttpOutcomes}, which lb-okhttp uses too): which answers are failed
 * attempts, which requests may be retried, and how an answer that asks for a pause ends the lease.
 */
final class HttpOutcomes {

  static final String IDEMPOTENCY_KEY = io.miniloadbalancer.core.HttpOutcomes.IDEMPOTENCY_KEY;

  private HttpOutcomes() {}

  /** Whether an answer with this status is a failed attempt (every 5xx, and 429). */
  static boolean isFailure(int status) {
    return io.miniloadbalancer.core.HttpOutcomes.isRetryable(status);
  }

  /** Whether a request may be sent again: by method, or by an explicit Idempotency-Key. */
  static boolean retryable(String method, boolean hasIdempotencyKey) {
    return io.miniloadbalancer.core.HttpOutcomes.isIdempotent(method, hasIdempotencyKey);
  }

  /**
   * Ends the lease as overloaded when the answer asks for a pause (429, or 503 with Retry-After);
   * otherwise leaves it to the caller's success/failure judgement.
   */
  static void overloadIfAsked(
      Lease lease, int status, @Nullable String retryAfterHeader, long latencyNanos) {
    Duration retryAfter =
        io.miniloadbalancer.core.HttpOutcomes.retryAfter(retryAfterHeader, Instant.now());
    if (io.miniloadbalancer.core.HttpOutcomes.outcome(status, retryAfter != null)
        != Outcome.OVERLOADED) {
      return;
    }
    if (retryAfter != null) {
      lease.overloaded(retryAfter);
    } else {
      lease.complete(Outcome.OVERLOADED, latencyNanos);
    }
  }
}
