package io.miniloadbalancer.core.internal.strategy;

import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.strategy.Picker;
import java.util.function.LongSupplier;

/**
 * Weighted least connections with power of two choices (Envoy's least request, HAProxy's {@code
 * random(2)}): two candidates drawn by weight, the one with the lower {@code inFlight / weight}
 * wins. O(1) per pick, and no herd onto the single least-loaded endpoint.
 */
final class LeastConnectionsP2cPicker implements Picker {

  private final EndpointRuntime[] endpoints;
  private final double[] inverseWeights;
  private final PowerOfTwoChoices choices;

  LeastConnectionsP2cPicker(EndpointRuntime[] endpoints, double[] weights, LongSupplier random) {
    this.endpoints = endpoints;
    this.inverseWeights = LeastConnectionsPicker.inverse(weights);
    this.choices = new PowerOfTwoChoices(weights, random);
  }

  @Override
  public int pick(RequestContext context, long nowNanos, int attempt) {
    int a = choices.first();
    int b = choices.second(a);
    double loadA = endpoints[a].inFlight() * inverseWeights[a];
    double loadB = endpoints[b].inFlight() * inverseWeights[b];
    return loadB < loadA ? b : a;
  }
}
