package io.miniloadbalancer.spring;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.miniloadbalancer.consul.ConsulRegistration;
import io.miniloadbalancer.okhttp.LoadBalancingInterceptor;
import okhttp3.OkHttpClient;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cloud.loadbalancer.annotation.LoadBalancerClients;
import org.springframework.cloud.loadbalancer.core.ReactorServiceInstanceLoadBalancer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;

/**
 * Edge Balancer in a Spring Boot application: the pools from {@code edge-balancer.pools}, a {@link
 * io.miniloadbalancer.core.LoadBalancer} bean per pool, and, each when its library is on the class
 * path, the HTTP client hooks (applied per client, never globally), the Micrometer binder, the
 * Actuator endpoint, the Spring Cloud LoadBalancer bridge and the Consul registration.
 *
 * <p>The same class serves Spring Boot 3.5 and 4.0: it uses only the Boot API the two lines share
 * (binding, conditions, Actuator's endpoint annotations). Each starter lists it in its {@code
 * AutoConfiguration.imports}, beside its own health auto-configuration, since health moved to a new
 * package in Boot 4.
 */
@AutoConfiguration
@EnableConfigurationProperties(EdgeBalancerProperties.class)
public class EdgeBalancerAutoConfiguration {

  /** Created by Spring Boot. */
  public EdgeBalancerAutoConfiguration() {}

  /**
   * The pools.
   *
   * @param properties {@code edge-balancer.*}
   * @return the pools, built and started
   */
  @Bean
  @ConditionalOnMissingBean
  public EdgeBalancerPools edgeBalancerPools(EdgeBalancerProperties properties) {
    return new EdgeBalancerPools(properties);
  }

  /**
   * One {@code LoadBalancer} bean per pool.
   *
   * @return the registrar
   */
  @Bean
  static PoolBeans edgeBalancerPoolBeans() {
    return new PoolBeans();
  }

  /**
   * The {@code lb.*} meters of every pool, bound to the application's registry.
   *
   * @param pools the pools
   * @return the binder
   */
  @Bean
  @ConditionalOnClass(MeterBinder.class)
  @ConditionalOnMissingBean
  public EdgeBalancerMeterBinder edgeBalancerMeterBinder(EdgeBalancerPools pools) {
    return new EdgeBalancerMeterBinder(pools);
  }

  /** RestClient and RestTemplate. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(ClientHttpRequestInterceptor.class)
  static class Blocking {
    @Bean
    @ConditionalOnMissingBean
    EdgeBalancerInterceptor edgeBalancerInterceptor(EdgeBalancerPools pools) {
      return new EdgeBalancerInterceptor(pools);
    }
  }

  /** WebClient. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(ExchangeFilterFunction.class)
  static class Reactive {
    @Bean
    @ConditionalOnMissingBean
    EdgeBalancerExchangeFilter edgeBalancerExchangeFilter(EdgeBalancerPools pools) {
      return new EdgeBalancerExchangeFilter(pools);
    }
  }

  /** OkHttp, through lb-okhttp. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({LoadBalancingInterceptor.class, OkHttpClient.class})
  static class OkHttp {
    @Bean
    @ConditionalOnMissingBean
    EdgeBalancerOkHttpCustomizer edgeBalancerOkHttpCustomizer(EdgeBalancerPools pools) {
      return new EdgeBalancerOkHttpCustomizer(pools);
    }
  }

  /** {@code /actuator/loadbalancers}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(Endpoint.class)
  static class Actuator {
    @Bean
    @ConditionalOnAvailableEndpoint
    @ConditionalOnMissingBean
    LoadBalancersEndpoint loadBalancersEndpoint(EdgeBalancerPools pools) {
      return new LoadBalancersEndpoint(pools);
    }
  }

  /** {@code @LoadBalanced} clients whose service id is a pool use the pool. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(ReactorServiceInstanceLoadBalancer.class)
  @ConditionalOnProperty(name = "edge-balancer.spring-cloud-bridge", matchIfMissing = true)
  @LoadBalancerClients(defaultConfiguration = EdgeBalancerLoadBalancerClientConfiguration.class)
  static class SpringCloudBridge {}

  /** This application's own Consul registration. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(ConsulRegistration.class)
  @ConditionalOnProperty(name = "edge-balancer.consul.registration.enabled")
  static class ConsulRegistrationConfiguration {
    @Bean
    ConsulSupport.RegistrationLifecycle edgeBalancerConsulRegistration(
        EdgeBalancerProperties properties, Environment environment) {
      EdgeBalancerProperties.Registration r = properties.consul().registration();
      String service =
          r.service() != null ? r.service() : environment.getProperty("spring.application.name");
      if (service == null || service.isBlank()) {
        throw new org.springframework.boot.context.properties.source
            .InvalidConfigurationPropertyValueException(
            "edge-balancer.consul.registration.service",
            "<none>",
            "name the service to register (or set spring.application.name)");
      }
      return new ConsulSupport.RegistrationLifecycle(
          properties.consul(),
          service,
          () ->
              environment.getProperty(
                  "local.server.port",
                  Integer.class,
                  environment.getProperty("server.port", Integer.class, 8080)));
    }
  }
}
