package io.miniloadbalancer.core;

/**
 * The lifecycle of one endpoint inside a balancer.
 *
 * <p>Only {@link #HEALTHY} endpoints receive new requests, except in panic mode (see the health
 * documentation) and except that in-flight requests on a {@link #DRAINING} endpoint finish. Every
 * change of state is made on the balancer's control context, carries a reason, and is recorded in
 * the transition log.
 */
public enum EndpointState {
  /** Takes new requests. The start state of an endpoint added by its source. */
  HEALTHY,
  /** Failed active health checks past the {@code fall} threshold; takes no new requests. */
  UNHEALTHY,
  /** Removed from rotation for a while by passive outlier detection; takes no new requests. */
  EJECTED,
  /** Takes no new requests; in-flight requests finish, then it is removed or returned. */
  DRAINING,
  /** Held out by an operator (or by Consul maintenance); takes no new requests, is not probed. */
  MAINT,
  /** Gone from the pool; only ever seen in the transition log and on old leases. */
  REMOVED
}
