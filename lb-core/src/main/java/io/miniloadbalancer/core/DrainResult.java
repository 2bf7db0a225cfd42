package io.miniloadbalancer.core;

import java.time.Duration;

/**
 * How a {@link LoadBalancer#drain drain} ended.
 *
 * @param endpointId the endpoint drained
 * @param completed true when its in-flight count reached zero; false when the deadline passed (or
 *     it was undrained or removed first)
 * @param stillInFlight leases still open when the result was decided (0 when completed)
 * @param waited how long the drain took
 */
public record DrainResult(
    String endpointId, boolean completed, int stillInFlight, Duration waited) {}
