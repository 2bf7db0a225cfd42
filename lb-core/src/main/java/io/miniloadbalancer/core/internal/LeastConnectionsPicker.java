package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.RequestContext;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Weighted least connections by full scan (HAProxy's {@code leastconn}): the endpoint with the
 * lowest {@code inFlight / weight}. O(n) per pick; the scan starts at a random index so ties do not
 * all land on the first endpoint. For large pools prefer {@code least-connections-p2c}.
 */
final class LeastConnectionsPicker implements Picker {

  private final EndpointRuntime[] endpoints;
  private final double[] inverseWeights;
  private final LongSupplier random;

  LeastConnectionsPicker(EndpointRuntime[] endpoints, double[] weights, LongSupplier random) {
    this.endpoints = endpoints;
    this.inverseWeights = inverse(weights);
    this.random = random;
  }

  static double[] inverse(double[] weights) {
    double[] inverse = new double[weights.length];
    for (int i = 0; i < weights.length; i++) {
      inverse[i] = 1.0 / weights[i];
    }
    return inverse;
  }

  @Override
  public @Nullable EndpointRuntime pick(RequestContext context, long nowNanos) {
    int n = endpoints.length;
    int i = Hashing.reduce(random.getAsLong(), n);
    int best = i;
    double bestLoad = endpoints[i].inFlight() * inverseWeights[i];
    for (int k = 1; k < n && bestLoad > 0; k++) {
      if (++i == n) {
        i = 0;
      }
      double load = endpoints[i].inFlight() * inverseWeights[i];
      if (load < bestLoad) {
        bestLoad = load;
        best = i;
      }
    }
    return endpoints[best];
  }
}
