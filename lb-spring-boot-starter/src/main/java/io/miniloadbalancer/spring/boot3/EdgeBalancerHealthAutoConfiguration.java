package io.miniloadbalancer.spring.boot3;

import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.spring.EdgeBalancerAutoConfiguration;
import io.miniloadbalancer.spring.EdgeBalancerPools;
import io.miniloadbalancer.spring.PoolHealth;
import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The pools' health on Spring Boot 3.5 ({@code /actuator/health/loadbalancers/<pool>}): one
 * indicator per pool, DOWN when none of its endpoints is routable. Off with {@code
 * management.health.loadbalancers.enabled=false}.
 */
@AutoConfiguration(after = EdgeBalancerAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(EdgeBalancerPools.class)
public class EdgeBalancerHealthAutoConfiguration {

  /** Created by Spring Boot. */
  public EdgeBalancerHealthAutoConfiguration() {}

  /**
   * The pools' health, one indicator per pool.
   *
   * @param pools the pools
   * @return the composite contributor named {@code loadbalancers}
   */
  @Bean
  @ConditionalOnEnabledHealthIndicator("loadbalancers")
  @ConditionalOnMissingBean(name = "loadbalancersHealthContributor")
  public CompositeHealthContributor loadbalancersHealthContributor(EdgeBalancerPools pools) {
    return CompositeHealthContributor.fromMap(
        PoolHealth.perPool(pools, pool -> (HealthIndicator) () -> health(pool)));
  }

  private static Health health(LoadBalancer pool) {
    PoolHealth h = PoolHealth.of(pool);
    return (h.up() ? Health.up() : Health.down()).withDetails(h.details()).build();
  }
}
