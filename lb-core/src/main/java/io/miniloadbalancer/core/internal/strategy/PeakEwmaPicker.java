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
 *
 * <p>An endpoint with requests in flight and no latency sample yet costs {@link #PENALTY_NANOS} per
 * request (Finagle's {@code Penalty}): nothing says it answers at all, so it is not drawn into a
 * pair as the cheap one while its first requests are still out. Cancelled leases carry their open
 * time as a lower bound (see {@code EndpointRuntime}), so an endpoint that never answers before its
 * clients give up is priced by how long they waited, not at zero.
 */
final class PeakEwmaPicker implements Picker {

  /** The latency an unsampled endpoint with requests in flight is priced at: 30 s. */
  static final double PENALTY_NANOS = 30e9;

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
    int inFlight = e.inFlight();
    double latency = inFlight > 0 && !e.sampled() ? PENALTY_NANOS : e.ewmaNanosAt(nowNanos);
    long penaltyUntil = e.penaltyUntilNanos();
    if (penaltyUntil > nowNanos) {
      latency += penaltyUntil - nowNanos;
    }
    return latency * (inFlight + 1) * inverseWeights[i];
  }
}
