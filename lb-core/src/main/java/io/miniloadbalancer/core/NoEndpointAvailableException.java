package io.miniloadbalancer.core;

/**
 * Thrown by {@link LoadBalancer#acquire} when no endpoint may take a new request. The message
 * summarizes the pool (for example {@code "no routable endpoint in pool 'orders': 3 endpoints: 2
 * UNHEALTHY, 1 DRAINING"}).
 *
 * <p>Stackless and shared: one instance per published routing table, so an outage does not turn
 * every request into a stack walk. Do not rely on its identity or mutate it.
 */
public final class NoEndpointAvailableException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * For the balancer; callers catch it, they do not create it.
   *
   * @param message the pool's state, for the caller's error message
   */
  public NoEndpointAvailableException(String message) {
    super(message, null, false, false);
  }
}
