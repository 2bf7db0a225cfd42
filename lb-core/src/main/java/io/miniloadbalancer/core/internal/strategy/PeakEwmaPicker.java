package io.miniloadbalancer.core.internal.strategy;

import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.strategy.Picker;
import java.util.function.LongSupplier;

/**
 * Power of two choices on peak-EWMA cost (Finagle's and Linkerd's default): {@code cost = ewma
 * latency x (inFlight + 1) / weight}, lower wins. The EWMA reacts to a slow endpoint at once (a
 * slower sample replaces the average) and forgives it over the decay time (10 s by default).
 *
 * <p>An endpoint under a Retry-After penalty stays in this strategy's table (the other strategies
 * skip it) and pays the penalty's remaining time as extra latency: a 5 s Retry-After weighs like a
 * 5 s response, so it is chosen only when the alternative is worse.
 */
final class PeakEwmaPicker implements Picker {

  private final EndpointRuntime[] endpoints;
  private final double[] inverseWeights;
  private final PowerOfTwoChoices choices;

  PeakEwmaPicker(EndpointRuntime[] endpoints, double[] weights, LongSupplier random) {
    this.endpoints = endpoints;
    this.inverseWeights = LeastConnectionsPicker.inverse(weights);
    this.choices = new PowerOfTwoChoices(weights, random);
  }

  @Override
  public int pick(RequestContext context, long nowNanos, int attempt) {
    int a = choices.first();
    int b = choices.second(a);
    return cost(b, nowNanos) < cost(a, nowNanos) ? b : a;
  }

  private double cost(int i, long nowNanos) {
    EndpointRuntime e = endpoints[i];
    double latency = e.ewmaNanosAt(nowNanos);
    long penaltyUntil = e.penaltyUntilNanos();
    if (penaltyUntil > nowNanos) {
      latency += penaltyUntil - nowNanos;
    }
    return latency * (e.inFlight() + 1) * inverseWeights[i];
  }
}
