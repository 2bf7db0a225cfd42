package io.miniloadbalancer.spring;

import io.miniloadbalancer.core.LoadBalancer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.loadbalancer.core.ReactorLoadBalancer;
import org.springframework.cloud.loadbalancer.core.RoundRobinLoadBalancer;
import org.springframework.cloud.loadbalancer.core.ServiceInstanceListSupplier;
import org.springframework.cloud.loadbalancer.support.LoadBalancerClientFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Spring Cloud LoadBalancer's per-service configuration, registered as every client's default: a
 * service id that names a pool gets {@link EdgeBalancerServiceInstanceLoadBalancer}; any other
 * keeps Spring Cloud's round robin over its own discovery, as without this starter.
 */
@Configuration(proxyBeanMethods = false)
public class EdgeBalancerLoadBalancerClientConfiguration {

  /** Created by Spring Cloud, once per service id. */
  public EdgeBalancerLoadBalancerClientConfiguration() {}

  /**
   * The service's load balancer.
   *
   * @param environment the per-service context's environment (it holds the service id)
   * @param pools the application's pools
   * @param suppliers the service's instances, for services that are not pools
   * @return the pool's bridge, or Spring Cloud's round robin
   */
  @Bean
  public ReactorLoadBalancer<ServiceInstance> edgeBalancerReactorLoadBalancer(
      Environment environment,
      EdgeBalancerPools pools,
      ObjectProvider<ServiceInstanceListSupplier> suppliers) {
    String serviceId = environment.getProperty(LoadBalancerClientFactory.PROPERTY_NAME);
    LoadBalancer pool = pools.find(serviceId);
    if (pool != null) {
      return new EdgeBalancerServiceInstanceLoadBalancer(serviceId, pool);
    }
    return new RoundRobinLoadBalancer(suppliers, serviceId);
  }
}
