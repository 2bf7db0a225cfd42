package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One change of an endpoint's state, with the reason it happened.
 *
 * @param endpointId the endpoint that changed
 * @param from the previous state, or null when the endpoint was just added
 * @param to the new state ({@link EndpointState#REMOVED} when it left the pool)
 * @param cause what kind of thing caused it (low-cardinality, for metrics and filters)
 * @param reason why, in words an operator can act on (for example {@code "removed by source;
 *     draining 3 in-flight"})
 * @param tickerNanos when, on the balancer's ticker (for ordering and durations)
 * @param at when, on the balancer's wall clock (for people)
 */
public record Transition(
    String endpointId,
    @Nullable EndpointState from,
    EndpointState to,
    Transition.Cause cause,
    String reason,
    long tickerNanos,
    Instant at) {

  /**
   * Checks that required fields are present.
   *
   * @param endpointId the endpoint that changed
   * @param from the previous state, or null when the endpoint was just added
   * @param to the new state ({@link EndpointState#REMOVED} when it left the pool)
   * @param cause what kind of thing caused it (low-cardinality, for metrics and filters)
   * @param reason why, in words an operator can act on (for example {@code "removed by source;
   *     draining 3 in-flight"})
   * @param tickerNanos when, on the balancer's ticker (for ordering and durations)
   * @param at when, on the balancer's wall clock (for people)
   */
  public Transition {
    requireNonNull(endpointId, "endpointId");
    requireNonNull(to, "to");
    requireNonNull(cause, "cause");
    requireNonNull(reason, "reason");
    requireNonNull(at, "at");
  }

  /** What kind of thing caused a transition. */
  public enum Cause {
    /** The endpoint source added, changed or removed the endpoint. */
    SOURCE,
    /** Active health checks (rise/fall thresholds). */
    PROBE,
    /** Passive outlier detection and its circuit breaker. */
    OUTLIER,
    /** An operator: drain, undrain, maintenance. */
    OPERATOR,
    /** A removal drain finished, or its deadline passed. */
    DRAIN
  }
}
