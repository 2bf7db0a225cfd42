package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

/**
 * What an endpoint source (a service registry such as Consul) says about one endpoint's health, as
 * opposed to what the balancer's own probes and passive checks say.
 *
 * <p>The balancer combines the two: an endpoint is routable only when <em>both</em> agree it is up.
 * A registry's {@link Status#CRITICAL} makes the endpoint {@link EndpointState#UNHEALTHY} without
 * removing it (its counters, EWMA and breaker history are kept, and it returns through slow start
 * when the registry says passing again); {@link Status#MAINTENANCE} makes it {@link
 * EndpointState#MAINT}, which drains in-flight work and takes no new traffic, panic included.
 * Registries apply their own thresholds before they report (Consul's {@code
 * SuccessBeforePassing}/{@code FailuresBeforeCritical}), so one report is believed as it comes:
 * counting repeated reports would be meaningless for a source that reports only changes.
 *
 * @param status the registry's verdict
 * @param detail why, for transition reasons and snapshots (for example the failing check's output)
 */
public record SourceHealth(Status status, String detail) {

  /** The registry's verdict. */
  public enum Status {
    /** Routable as far as the registry is concerned. */
    PASSING,
    /** Failing the registry's checks: unhealthy. */
    CRITICAL,
    /** Put in maintenance in the registry: drains, takes no new traffic. */
    MAINTENANCE
  }

  private static final SourceHealth PASSING = new SourceHealth(Status.PASSING, "passing");

  /**
   * Validates.
   *
   * @param status the registry's verdict
   * @param detail why, for transition reasons and snapshots (for example the failing check's
   *     output)
   */
  public SourceHealth {
    requireNonNull(status, "status");
    requireNonNull(detail, "detail");
  }

  /**
   * The registry has nothing against it.
   *
   * @return the passing value (a shared constant)
   */
  public static SourceHealth passing() {
    return PASSING;
  }

  /**
   * Failing the registry's checks, with the reason.
   *
   * @param detail the source's words, for people
   * @return failing the registry's checks, with the reason
   */
  public static SourceHealth critical(String detail) {
    return new SourceHealth(Status.CRITICAL, detail);
  }

  /**
   * In maintenance in the registry, with the reason.
   *
   * @param detail the source's words, for people
   * @return in maintenance in the registry, with the reason
   */
  public static SourceHealth maintenance(String detail) {
    return new SourceHealth(Status.MAINTENANCE, detail);
  }
}
