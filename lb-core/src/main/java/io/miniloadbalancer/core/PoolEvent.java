package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Something that happened to the pool as a whole, or to one endpoint without changing its state:
 * panic, zone spill-over, ejections skipped or only recorded, breakers closing, ramps ending.
 *
 * @param kind what happened
 * @param endpointId the endpoint concerned, or null for the whole pool
 * @param reason why, in words an operator can act on
 * @param tickerNanos when, on the balancer's ticker
 * @param at when, on the balancer's wall clock
 */
public record PoolEvent(
    Kind kind, @Nullable String endpointId, String reason, long tickerNanos, Instant at) {

  /**
   * Checks required fields.
   *
   * @param kind what happened
   * @param endpointId the endpoint concerned, or null for the whole pool
   * @param reason why, in words an operator can act on
   * @param tickerNanos when, on the balancer's ticker
   * @param at when, on the balancer's wall clock
   */
  public PoolEvent {
    requireNonNull(kind, "kind");
    requireNonNull(reason, "reason");
    requireNonNull(at, "at");
  }

  /** The kinds of pool event. */
  public enum Kind {
    /** Too few healthy endpoints: traffic spreads over every endpoint not drained or in MAINT. */
    PANIC_ENTERED,
    /** Enough healthy endpoints again. */
    PANIC_EXITED,
    /** The local zone has enough healthy endpoints: traffic stays in it. */
    ZONE_LOCAL,
    /** The local zone does not: traffic spills over to every zone. */
    ZONE_SPILLOVER,
    /** Outlier detection would have ejected an endpoint, but the max ejected share was reached. */
    EJECTION_SKIPPED,
    /** Outlier detection in dry-run would have ejected an endpoint. */
    EJECTION_DRY_RUN,
    /** A half-open breaker closed after its trial requests succeeded. */
    BREAKER_CLOSED,
    /** An endpoint finished its slow-start ramp. */
    SLOW_START_DONE,
    /** An endpoint asked for a pause (429, or 503 with Retry-After) and is penalized. */
    PENALIZED
  }
}
