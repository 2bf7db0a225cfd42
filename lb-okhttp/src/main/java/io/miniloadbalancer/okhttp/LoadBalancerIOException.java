package io.miniloadbalancer.okhttp;

import io.miniloadbalancer.core.RetryResult;
import java.io.IOException;
import java.util.List;

/**
 * A request to a balanced host failed for a reason the balancer can explain: no endpoint could take
 * it (the message summarizes the pool), every attempt failed, or the retry budget refused a retry.
 * The message lists each attempt's endpoint and cause; the cause is the last attempt's exception.
 */
public final class LoadBalancerIOException extends IOException {

  private static final long serialVersionUID = 1L;

  /** Why the request failed. */
  public enum Kind {
    /** No endpoint may take a new request. */
    NO_ENDPOINT,
    /** An attempt failed and the retry budget refused a retry. */
    BUDGET_EXHAUSTED,
    /** Every allowed attempt failed. */
    ALL_ATTEMPTS_FAILED
  }

  /** Why the call failed (part of the serialized form). */
  private final Kind kind;

  private final transient List<RetryResult.Attempt> attempts;

  LoadBalancerIOException(
      Kind kind, String message, List<RetryResult.Attempt> attempts, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.attempts = List.copyOf(attempts);
  }

  /**
   * Why the request failed.
   *
   * @return why the request failed
   */
  public Kind kind() {
    return kind;
  }

  /**
   * Each attempt's endpoint and cause, in order.
   *
   * @return each attempt's endpoint and cause, in order
   */
  public List<RetryResult.Attempt> attempts() {
    return attempts;
  }
}
