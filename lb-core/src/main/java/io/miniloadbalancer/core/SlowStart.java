package io.miniloadbalancer.core;

import java.time.Duration;

/**
 * Ramps the weight of an endpoint that joins the pool after start or recovers (from UNHEALTHY,
 * EJECTED, MAINT or an operator drain) over {@code window}, with Envoy's curve: {@code weight x
 * max(minWeightPercent / 100, (t / window) ^ (1 / aggression))}. Aggression 1 is linear; above 1
 * ramps faster early. Every strategy honours it: weighted ones through the effective weight, hash
 * ones by letting the endpoint take a growing share of its own keys while every other key stays
 * where it was.
 *
 * @param window how long a ramp lasts
 * @param minWeightPercent the share of its weight an endpoint starts with (Envoy: 10)
 * @param aggression the curve's shape (Envoy: 1.0, linear)
 */
public record SlowStart(Duration window, int minWeightPercent, double aggression) {

  /**
   * Validates.
   *
   * @param window how long a ramp lasts
   * @param minWeightPercent the share of its weight an endpoint starts with (Envoy: 10)
   * @param aggression the curve's shape (Envoy: 1.0, linear)
   */
  public SlowStart {
    HealthCheck.positive(window, "window");
    if (minWeightPercent < 1 || minWeightPercent > 100) {
      throw new IllegalArgumentException(
          "minWeightPercent must be in 1..100, was " + minWeightPercent);
    }
    if (!(aggression > 0)) {
      throw new IllegalArgumentException("aggression must be positive, was " + aggression);
    }
  }

  /**
   * A linear ramp from 10% over {@code window} (Envoy's defaults).
   *
   * @param window how long the ramp lasts
   * @return a linear ramp from 10% over {@code window} (Envoy's defaults)
   */
  public static SlowStart linear(Duration window) {
    return new SlowStart(window, 10, 1.0);
  }

  /**
   * The weight factor {@code elapsedNanos} into the ramp.
   *
   * @param elapsedNanos time since the endpoint joined or recovered, in nanoseconds
   * @return the weight factor {@code elapsedNanos} into the ramp
   */
  public double factor(long elapsedNanos) {
    double t = Math.min(1.0, Math.max(0.0, elapsedNanos / (double) window.toNanos()));
    return Math.max(minWeightPercent / 100.0, Math.pow(t, 1.0 / aggression));
  }
}
