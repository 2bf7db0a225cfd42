package io.miniloadbalancer.core;

/**
 * An endpoint's circuit breaker, driven by passive outlier detection.
 *
 * <p>{@link #CLOSED}: normal. {@link #OPEN}: ejected, no picks until the ejection time passes (or
 * an active check passes, when so configured). {@link #HALF_OPEN}: back in rotation for a bounded
 * trial: at most {@code trialRequests} requests in flight; that many successes close the breaker,
 * one failure opens it again for longer.
 */
public enum BreakerState {
  /** Normal traffic. */
  CLOSED,
  /** Ejected: no traffic. */
  OPEN,
  /** A bounded trial is running. */
  HALF_OPEN
}
