package io.miniloadbalancer.core;

import org.jspecify.annotations.Nullable;

/**
 * One endpoint as a {@link BalancerSnapshot} saw it.
 *
 * @param endpoint the endpoint's current definition
 * @param state its state
 * @param routable whether the current routing table may pick it for a new request
 * @param configuredWeight the weight its source gave it
 * @param effectiveWeight the weight strategies use now (configured weight times any ramp factor)
 * @param inFlight open leases on it
 * @param ewmaLatencyMillis peak-EWMA latency as {@code p2c-ewma} sees it now, in milliseconds
 * @param successes completed leases reported as {@link Outcome#SUCCESS}
 * @param failures completed leases reported as {@link Outcome#FAILURE}
 * @param cancellations leases closed as {@link Outcome#CANCELLED} or without an outcome
 * @param lastTransition its most recent transition, or null if none is retained
 */
public record EndpointSnapshot(
    Endpoint endpoint,
    EndpointState state,
    boolean routable,
    int configuredWeight,
    double effectiveWeight,
    int inFlight,
    double ewmaLatencyMillis,
    long successes,
    long failures,
    long cancellations,
    @Nullable Transition lastTransition) {

  /** The endpoint's id. */
  public String id() {
    return endpoint.id();
  }
}
