package io.miniloadbalancer.spring;

import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.LoadBalancer;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/**
 * One pool's health: DOWN when no endpoint is routable, UP otherwise; the details say how many are
 * routable, the endpoints by state, the strategy and whether panic mode is on (UP in panic: traffic
 * still flows, spread over every endpoint not drained).
 */
final class PoolHealthIndicator implements HealthIndicator {

  private final LoadBalancer balancer;

  PoolHealthIndicator(LoadBalancer balancer) {
    this.balancer = balancer;
  }

  @Override
  public Health health() {
    BalancerSnapshot s = balancer.snapshot();
    Map<String, Integer> byState = new TreeMap<>();
    for (EndpointSnapshot e : s.endpoints()) {
      byState.merge(e.state().name(), 1, Integer::sum);
    }
    Health.Builder h = s.routableCount() > 0 ? Health.up() : Health.down();
    return h.withDetail("routable", s.routableCount())
        .withDetail("endpoints", s.endpoints().size())
        .withDetail("states", byState)
        .withDetail("strategy", s.strategy())
        .withDetail("panic", s.panic())
        .build();
  }
}
