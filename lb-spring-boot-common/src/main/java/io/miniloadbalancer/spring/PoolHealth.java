package io.miniloadbalancer.spring;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.LoadBalancer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * One pool's health in terms free of Spring Boot's health API, which moved package between Boot 3.5
 * and 4.0: each starter's health indicator turns this into its line's {@code Health}. DOWN when no
 * endpoint is routable, UP otherwise; the details say how many are routable, the endpoints by
 * state, the strategy and whether panic mode is on (UP in panic: traffic still flows, spread over
 * every endpoint not drained).
 *
 * @param up whether at least one endpoint is routable
 * @param details routable, endpoints, states, strategy and panic, in that order
 */
public record PoolHealth(boolean up, Map<String, Object> details) {

  /**
   * Copies the details, keeping their order.
   *
   * @param up whether the pool is up
   * @param details the details
   */
  public PoolHealth {
    details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
  }

  /**
   * The pool's health now, from one snapshot.
   *
   * @param balancer the pool's balancer
   * @return its health
   */
  public static PoolHealth of(LoadBalancer balancer) {
    BalancerSnapshot s = balancer.snapshot();
    Map<String, Integer> byState = new TreeMap<>();
    for (EndpointSnapshot e : s.endpoints()) {
      byState.merge(e.state().name(), 1, Integer::sum);
    }
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("routable", s.routableCount());
    details.put("endpoints", s.endpoints().size());
    details.put("states", byState);
    details.put("strategy", s.strategy());
    details.put("panic", s.panic());
    return new PoolHealth(s.routableCount() > 0, details);
  }

  /**
   * One health contributor per pool, in configuration order, for a starter's composite contributor.
   *
   * @param pools the pools
   * @param indicator makes a pool's contributor from its balancer
   * @param <T> the contributor type of the starter's Boot line
   * @return the contributors by pool name
   */
  public static <T> Map<String, T> perPool(
      EdgeBalancerPools pools, Function<LoadBalancer, T> indicator) {
    requireNonNull(indicator, "indicator");
    Map<String, T> out = new LinkedHashMap<>();
    for (String name : pools.names()) {
      out.put(name, indicator.apply(pools.get(name)));
    }
    return out;
  }
}
