package io.miniloadbalancer.core.strategy;

import io.miniloadbalancer.core.RequestContext;

/**
 * A strategy's choice function over one published table of routable endpoints.
 *
 * <p>Built by {@link Strategy#newPicker} on the balancer's control thread each time a table is
 * published, then called concurrently by every thread that acquires a lease, until the next table
 * replaces it. So {@link #pick} must be thread-safe and cheap: no locks, no allocation, no
 * blocking; precompute in the constructor and keep only lock-free counters as mutable state.
 *
 * <pre>{@code
 * Picker first = (context, nowNanos, attempt) -> attempt; // endpoint 0, then 1, 2, ...
 * }</pre>
 */
@FunctionalInterface
public interface Picker {

  /** What {@link #pick} returns when it has nothing to offer (an empty table). */
  int NONE = -1;

  /** The picker of an empty table: always {@link #NONE}. */
  Picker EMPTY = (context, nowNanos, attempt) -> NONE;

  /**
   * Chooses an endpoint for a new request.
   *
   * @param context the request's hash key and exclusions; the balancer skips an excluded pick and
   *     asks again, so a picker need not check exclusions itself
   * @param nowNanos the balancer ticker's current reading (for time-aware strategies)
   * @param attempt 0 for the first choice; higher when the balancer asks again because the previous
   *     choice was excluded or refused the lease (a hash strategy then offers the key's next
   *     candidate instead of the same endpoint). After a few attempts the balancer scans the table
   *     itself.
   * @return the chosen endpoint's index in the {@link EndpointTable} this picker was built over
   *     ({@code 0 <= index < size()}), or {@link #NONE} when the table is empty
   */
  int pick(RequestContext context, long nowNanos, int attempt);

  /**
   * Whether this picker reads {@link EndpointTable#totalInFlight()} (bounded-load hashing). The
   * balancer maintains that count, one atomic add per lease, only while such a picker is active.
   *
   * @return whether this picker reads the pool's total in-flight count; false by default
   */
  default boolean readsTotalInFlight() {
    return false;
  }
}
