package io.miniloadbalancer.consul;

/** What a Consul {@code warning} status does to an instance. */
public enum WarningPolicy {
  /**
   * Routable with the service's {@code Weights.Warning} (default): what Consul's own DNS does, so a
   * struggling instance keeps a small share instead of flapping in and out. A Warning weight of 0
   * means not routable while warning.
   */
  WARNING_WEIGHT,
  /** Routable with the passing weight: warnings are informational. */
  PASSING_WEIGHT,
  /** Unhealthy, as if critical: for services whose warnings mean "do not send me traffic". */
  UNHEALTHY
}
