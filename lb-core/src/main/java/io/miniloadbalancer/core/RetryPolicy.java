package io.miniloadbalancer.core;

import java.time.Duration;
import java.util.Set;

/**
 * How a {@link RetryExecutor} retries: at most {@code maxRetries} retries, each after a backoff
 * with full jitter (a random wait in {@code [0, min(cap, base x 2^(retry - 1))]}, AWS's "full
 * jitter"). A frozen value; the budget that bounds retries across all callers belongs to the
 * balancer ({@link LoadBalancerBuilder#retryBudget}).
 *
 * @param maxRetries retries after the first attempt; default 1 (Envoy's {@code num_retries})
 * @param backoffBase the first retry's maximum wait; default 25 ms (Envoy)
 * @param backoffCap the longest wait; default 250 ms (Envoy)
 */
public record RetryPolicy(int maxRetries, Duration backoffBase, Duration backoffCap) {

  /**
   * Methods safe to send twice (RFC 9110 section 9.2.2): {@link HttpOutcomes#IDEMPOTENT_METHODS}.
   */
  public static final Set<String> IDEMPOTENT_METHODS = HttpOutcomes.IDEMPOTENT_METHODS;

  /**
   * Validates.
   *
   * @param maxRetries retries after the first attempt; default 1 (Envoy's {@code num_retries})
   * @param backoffBase the first retry's maximum wait; default 25 ms (Envoy)
   * @param backoffCap the longest wait; default 250 ms (Envoy)
   */
  public RetryPolicy {
    if (maxRetries < 0 || maxRetries > 10) {
      throw new IllegalArgumentException("maxRetries must be in 0..10, was " + maxRetries);
    }
    if (backoffBase.isNegative()
        || backoffCap.isNegative()
        || backoffCap.compareTo(backoffBase) < 0) {
      throw new IllegalArgumentException(
          "backoff needs 0 <= backoffBase <= backoffCap, was "
              + backoffBase
              + " and "
              + backoffCap);
    }
  }

  /**
   * One retry, 25 ms base, 250 ms cap.
   *
   * @return one retry, 25 ms base, 250 ms cap
   */
  public static RetryPolicy defaults() {
    return new RetryPolicy(1, Duration.ofMillis(25), Duration.ofMillis(250));
  }

  /**
   * A copy with another retry count.
   *
   * @param retries the new retry count
   * @return a copy with another retry count
   */
  public RetryPolicy withMaxRetries(int retries) {
    return new RetryPolicy(retries, backoffBase, backoffCap);
  }

  /**
   * A copy with other backoff bounds ({@code Duration.ZERO} twice for none).
   *
   * @param base the first retry's maximum wait
   * @param cap the longest wait
   * @return a copy with other backoff bounds ({@code Duration.ZERO} twice for none)
   */
  public RetryPolicy withBackoff(Duration base, Duration cap) {
    return new RetryPolicy(maxRetries, base, cap);
  }

  /**
   * Whether {@code method} is idempotent by definition; {@link HttpOutcomes#isIdempotent} also
   * honours an {@code Idempotency-Key}.
   *
   * @param method the HTTP method, in any case
   * @return whether {@code method} is idempotent by definition
   */
  public static boolean isIdempotent(String method) {
    return HttpOutcomes.isIdempotent(method, false);
  }
}
