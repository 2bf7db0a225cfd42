package io.miniloadbalancer.core;

/** How a request on a {@link Lease} ended, as the caller reports it. */
public enum Outcome {
  /** The endpoint answered usefully. Latency feeds the EWMA. */
  SUCCESS,
  /** The endpoint failed: connection error, timeout, a 5xx. Counts against its health. */
  FAILURE,
  /**
   * The endpoint refused for now and said when to come back (HTTP 429, or 503 with Retry-After): a
   * temporary penalty, not a health failure; it does not count toward ejection.
   */
  OVERLOADED,
  /**
   * The caller gave up before an answer (cancelled, or closed the lease without an outcome).
   * Releases the lease; says nothing about the endpoint's health and does not feed the EWMA.
   */
  CANCELLED
}
