package io.miniloadbalancer.core.strategy;

import io.miniloadbalancer.core.Endpoint;

/**
 * The routable endpoints of one published table, as a {@link Strategy} sees them: index-aligned,
 * immutable apart from the live counters. Reads are allocation-free and safe from any thread, so a
 * {@link Picker} may call them on every pick.
 */
public interface EndpointTable {

  /**
   * How many endpoints may take a new request.
   *
   * @return the number of routable endpoints, at least 1 when a picker is built
   */
  int size();

  /**
   * One endpoint as its source defined it.
   *
   * @param index {@code 0 <= index < size()}
   * @return the endpoint at {@code index}
   */
  Endpoint endpoint(int index);

  /**
   * The weight to balance by: the endpoint's configured weight times its slow-start factor.
   *
   * @param index {@code 0 <= index < size()}
   * @return the effective weight, positive
   */
  double weight(int index);

  /**
   * Open leases on the endpoint now (a live counter, not a copy).
   *
   * @param index {@code 0 <= index < size()}
   * @return the endpoint's in-flight requests
   */
  int inFlight(int index);

  /**
   * Open leases on the whole pool, maintained only while the active picker says it {@link
   * Picker#readsTotalInFlight() reads it}.
   *
   * @return the pool's in-flight requests
   */
  long totalInFlight();

  /**
   * A uniformly random long from the balancer's random source (seeded in tests, so picks repeat).
   *
   * @return a random long
   */
  long nextRandom();
}
