package io.miniloadbalancer.core.internal.strategy;

import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.strategy.Picker;
import java.util.function.LongSupplier;

/**
 * Weighted least connections by full scan (HAProxy's {@code leastconn}): the endpoint with the
 * lowest {@code inFlight / weight}. O(n) per pick; for large pools prefer {@code
 * least-connections-p2c}.
 *
 * <p>The scan starts at an index drawn by weight and keeps the first endpoint with the lowest load,
 * so ties (an idle pool, sequential callers) go to endpoints in proportion to their weights instead
 * of all to the first one.
 */
final class LeastConnectionsPicker implements Picker {

  private final EndpointRuntime[] endpoints;
  private final double[] inverseWeights;
  private final AliasTable start;
  private final LongSupplier random;

  LeastConnectionsPicker(EndpointRuntime[] endpoints, double[] weights, LongSupplier random) {
    this.endpoints = endpoints;
    this.inverseWeights = inverse(weights);
    this.start = new AliasTable(weights);
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
  public int pick(RequestContext context, long nowNanos, int attempt) {
    int n = endpoints.length;
    int i = start.sample(random.getAsLong());
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
    return best;
  }
}
