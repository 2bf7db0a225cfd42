package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.strategy.Picker;

/**
 * One published, immutable routing state: what the data path reads with a single volatile load.
 *
 * @param strategy the strategy's name
 * @param picker the strategy's choice function over {@code routable}
 * @param routable the endpoints a new request may go to
 * @param weights their effective weights, index-aligned with {@code routable}
 * @param members every endpoint in the pool, routable or not, in pool order
 * @param noEndpoint the shared exception thrown when {@code picker} finds nothing
 */
public record RoutingTable(
    String strategy,
    Picker picker,
    EndpointRuntime[] routable,
    double[] weights,
    EndpointRuntime[] members,
    NoEndpointAvailableException noEndpoint) {}
