package io.miniloadbalancer.core;

import org.jspecify.annotations.Nullable;

/**
 * One endpoint as a {@link BalancerSnapshot} saw it.
 *
 * @param endpoint the endpoint's current definition
 * @param state its state
 * @param routable whether the current routing table may pick it for a new request
 * @param configuredWeight the weight its source gave it
 * @param effectiveWeight the weight strategies use now (configured weight x slow-start factor), 0
 *     when it is not routable
 * @param slowStartFactor its ramp factor now (1 when not ramping)
 * @param inFlight open leases on it
 * @param ewmaLatencyMillis peak-EWMA latency as {@code p2c-ewma} sees it now, in milliseconds
 * @param successes completed leases reported as {@link Outcome#SUCCESS}
 * @param failures completed leases reported as {@link Outcome#FAILURE}
 * @param overloaded completed leases reported as {@link Outcome#OVERLOADED}
 * @param cancellations leases closed as {@link Outcome#CANCELLED} or without an outcome
 * @param consecutiveFailures failed completions in a row right now
 * @param breaker its circuit breaker
 * @param ejections how many times it was ejected (decays while it stays clean)
 * @param ejectionRemainingMillis time left in the current ejection, 0 when not ejected
 * @param penaltyRemainingMillis time left in a Retry-After penalty, 0 when none
 * @param lastProbe the last active probe's detail ({@code "not probed"} without health checks)
 * @param lastTransition its most recent transition, or null if none is retained
 */
public record EndpointSnapshot(
    Endpoint endpoint,
    EndpointState state,
    boolean routable,
    int configuredWeight,
    double effectiveWeight,
    double slowStartFactor,
    int inFlight,
    double ewmaLatencyMillis,
    long successes,
    long failures,
    long overloaded,
    long cancellations,
    int consecutiveFailures,
    BreakerState breaker,
    int ejections,
    long ejectionRemainingMillis,
    long penaltyRemainingMillis,
    String lastProbe,
    @Nullable Transition lastTransition) {

  /**
   * The endpoint's id.
   *
   * @return the endpoint's id
   */
  public String id() {
    return endpoint.id();
  }
}
