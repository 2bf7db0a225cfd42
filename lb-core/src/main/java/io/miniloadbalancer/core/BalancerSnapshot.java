package io.miniloadbalancer.core;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * An immutable picture of a whole balancer, for admin planes, metrics and tests.
 *
 * <p>Taken without stopping traffic: the endpoint list and strategy are one consistent published
 * state; counters (in-flight, successes, ...) are read one by one while traffic flows.
 *
 * @param name the balancer's name (the pool)
 * @param strategy the current strategy's name
 * @param lastSwitch the most recent strategy switch, or null if there was none
 * @param panic whether panic mode is on (too few healthy endpoints: traffic spreads over all that
 *     are not draining or in maintenance)
 * @param zoneMode which zones take traffic and why (for example {@code "local zone eu-west-1a: 3/3
 *     healthy"}), or {@code "zone-aware routing off"}
 * @param retryBudgetAvailable retries the budget would allow right now
 * @param endpoints every endpoint in the pool, draining ones included, in pool order
 * @param recentTransitions the transition log, oldest first (bounded)
 * @param recentEvents pool events, oldest first (bounded)
 * @param source how the endpoint source is doing (staleness, current problem)
 * @param tickerNanos when it was taken, on the balancer's ticker
 * @param at when it was taken, on the balancer's wall clock
 */
public record BalancerSnapshot(
    String name,
    String strategy,
    @Nullable StrategySwitch lastSwitch,
    boolean panic,
    String zoneMode,
    long retryBudgetAvailable,
    List<EndpointSnapshot> endpoints,
    List<Transition> recentTransitions,
    List<PoolEvent> recentEvents,
    SourceSnapshot source,
    long tickerNanos,
    Instant at) {

  /**
   * Copies the lists.
   *
   * @param name the balancer's name (the pool)
   * @param strategy the current strategy's name
   * @param lastSwitch the most recent strategy switch, or null if there was none
   * @param panic whether panic mode is on (too few healthy endpoints: traffic spreads over all that
   *     are not draining or in maintenance)
   * @param zoneMode which zones take traffic and why (for example {@code "local zone eu-west-1a:
   *     3/3 healthy"}), or {@code "zone-aware routing off"}
   * @param retryBudgetAvailable retries the budget would allow right now
   * @param endpoints every endpoint in the pool, draining ones included, in pool order
   * @param recentTransitions the transition log, oldest first (bounded)
   * @param recentEvents pool events, oldest first (bounded)
   * @param source how the endpoint source is doing (staleness, current problem)
   * @param tickerNanos when it was taken, on the balancer's ticker
   * @param at when it was taken, on the balancer's wall clock
   */
  public BalancerSnapshot {
    endpoints = List.copyOf(endpoints);
    recentTransitions = List.copyOf(recentTransitions);
    recentEvents = List.copyOf(recentEvents);
  }

  /**
   * The endpoint with this id, if it is in the pool.
   *
   * @param id the endpoint id
   * @return the endpoint with this id, if it is in the pool
   */
  public Optional<EndpointSnapshot> endpoint(String id) {
    for (EndpointSnapshot e : endpoints) {
      if (e.id().equals(id)) {
        return Optional.of(e);
      }
    }
    return Optional.empty();
  }

  /**
   * How many endpoints the current routing table may pick.
   *
   * @return how many endpoints the current routing table may pick
   */
  public int routableCount() {
    int n = 0;
    for (EndpointSnapshot e : endpoints) {
      if (e.routable()) {
        n++;
      }
    }
    return n;
  }

  /**
   * The sum of open leases over every endpoint.
   *
   * @return the sum of open leases over every endpoint
   */
  public int totalInFlight() {
    int n = 0;
    for (EndpointSnapshot e : endpoints) {
      n += e.inFlight();
    }
    return n;
  }
}
