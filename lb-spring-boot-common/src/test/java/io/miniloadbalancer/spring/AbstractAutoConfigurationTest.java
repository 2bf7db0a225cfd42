package io.miniloadbalancer.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.LoadBalancer;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;

/**
 * Conditions, properties, metadata, health and failure messages, without a server. Each starter
 * runs these on its Boot line, naming its auto-configurations and the classes that moved.
 */
public abstract class AbstractAutoConfigurationTest {

  /**
   * The starter's auto-configurations, as its {@code AutoConfiguration.imports} lists them.
   *
   * @return the auto-configuration classes
   */
  protected abstract Class<?>[] autoConfigurations();

  /**
   * Boot's metrics auto-configurations with a simple registry (their package differs by line).
   *
   * @return the auto-configuration classes
   */
  protected abstract Class<?>[] simpleMetricsAutoConfigurations();

  /**
   * The line's {@code HealthIndicator} type: filtered out, the health contributor must go.
   *
   * @return the health indicator interface
   */
  protected abstract Class<?> healthIndicatorType();

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(autoConfigurations()))
          .withUserConfiguration(InjectedConfig.class);

  private static final String[] TWO_POOLS = {
    "edge-balancer.pools.orders.endpoints[0].id=o1",
    "edge-balancer.pools.orders.endpoints[0].address=127.0.0.1:9001",
    "edge-balancer.pools.orders.endpoints[1].address=127.0.0.1:9002",
    "edge-balancer.pools.orders.endpoints[1].weight=3",
    "edge-balancer.pools.orders.endpoints[1].zone=eu-west-1a",
    "edge-balancer.pools.orders.strategy=least-connections",
    "edge-balancer.pools.Payments.endpoints[0].address=[::1]:9003",
    "edge-balancer.pools.Payments.strategy=maglev",
    "edge-balancer.pools.Payments.outlier-detection.consecutive-failures=3",
    "edge-balancer.pools.Payments.health-check.type=http",
    "edge-balancer.pools.Payments.health-check.path=/ready",
    "edge-balancer.pools.Payments.health-check.interval=30s",
    "edge-balancer.pools.Payments.slow-start=10s",
    "edge-balancer.pools.Payments.panic-threshold=0",
    "edge-balancer.pools.Payments.zone.local=eu-west-1a",
    "edge-balancer.pools.Payments.retry.max-retries=3",
  };

  @Test
  void buildsOnePoolPerEntryFromProperties() {
    runner
        .withPropertyValues(TWO_POOLS)
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              EdgeBalancerPools pools = ctx.getBean(EdgeBalancerPools.class);
              assertThat(pools.names()).containsExactly("orders", "payments");
              LoadBalancer orders = pools.get("orders");
              assertThat(orders.strategy()).isEqualTo("least-connections");
              List<EndpointSnapshot> endpoints = orders.snapshot().endpoints();
              assertThat(endpoints)
                  .extracting(EndpointSnapshot::id)
                  .containsExactly("o1", "127.0.0.1:9002");
              assertThat(endpoints.get(1).configuredWeight()).isEqualTo(3);
              assertThat(endpoints.get(1).endpoint().zone()).isEqualTo("eu-west-1a");
              LoadBalancer payments = pools.get("payments");
              assertThat(payments.strategy()).isEqualTo("maglev");
              assertThat(payments.snapshot().endpoints().get(0).endpoint().host()).isEqualTo("::1");
              assertThat(pools.retries("payments").policy().maxRetries()).isEqualTo(3);
              assertThat(pools.retries("orders").policy().maxRetries()).isEqualTo(1);
              // One LoadBalancer bean per pool, injectable by the pool's name.
              assertThat(ctx.getBeansOfType(LoadBalancer.class)).hasSize(2);
              assertThat(ctx.getBean(Injected.class).orders).isSameAs(orders);
            });
  }

  @Test
  void closesThePoolsWithTheContext() {
    List<LoadBalancer> seen = new ArrayList<>();
    runner
        .withPropertyValues(TWO_POOLS)
        .run(ctx -> seen.add(ctx.getBean(EdgeBalancerPools.class).get("orders")));
    assertThat(seen).hasSize(1);
    // A closed balancer refuses new leases.
    assertThat(catchAcquire(seen.get(0))).isNotNull();
  }

  private static Throwable catchAcquire(LoadBalancer b) {
    try {
      b.acquire(io.miniloadbalancer.core.RequestContext.none()).close();
      return null;
    } catch (RuntimeException e) {
      return e;
    }
  }

  @Test
  void noPoolsIsAnEmptyButWorkingSetUp() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(autoConfigurations()))
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx.getBean(EdgeBalancerPools.class).names()).isEmpty();
              assertThat(ctx).hasSingleBean(EdgeBalancerInterceptor.class);
            });
  }

  @Test
  void clientHooksAppearOnlyWithTheirLibraries() {
    runner
        .withPropertyValues(TWO_POOLS)
        .run(
            ctx -> {
              assertThat(ctx).hasSingleBean(EdgeBalancerInterceptor.class);
              assertThat(ctx).hasSingleBean(EdgeBalancerExchangeFilter.class);
              assertThat(ctx).hasSingleBean(EdgeBalancerOkHttpCustomizer.class);
              // Opt-in: nothing customizes the application's clients by itself.
              assertThat(ctx.getBeansOfType(ClientHttpRequestInterceptor.class)).hasSize(1);
              OkHttpClient.Builder b = new OkHttpClient.Builder();
              ctx.getBean(EdgeBalancerOkHttpCustomizer.class).accept(b);
              assertThat(b.interceptors()).hasSize(2);
            });
    runner
        .withPropertyValues(TWO_POOLS)
        .withClassLoader(
            new FilteredClassLoader(
                ClientHttpRequestInterceptor.class,
                ExchangeFilterFunction.class,
                OkHttpClient.class))
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx).doesNotHaveBean(EdgeBalancerInterceptor.class);
              assertThat(ctx).doesNotHaveBean(EdgeBalancerExchangeFilter.class);
              assertThat(ctx).doesNotHaveBean(EdgeBalancerOkHttpCustomizer.class);
            });
  }

  @Test
  void bindsTheMetricsToTheApplicationsRegistry() {
    runner
        .withConfiguration(AutoConfigurations.of(simpleMetricsAutoConfigurations()))
        .withPropertyValues(TWO_POOLS)
        .run(
            ctx -> {
              MeterRegistry registry = ctx.getBean(MeterRegistry.class);
              assertThat(registry).isInstanceOf(SimpleMeterRegistry.class);
              assertThat(registry.find("lb.requests").tag("pool", "orders").meters()).isNotEmpty();
              assertThat(registry.find("lb.requests").tag("pool", "payments").meters())
                  .isNotEmpty();
            });
  }

  @Test
  void aHealthContributorPerPoolUnlessTurnedOffOrAbsent() {
    String contributor = "loadbalancersHealthContributor";
    runner
        .withPropertyValues(TWO_POOLS)
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx).hasBean(contributor);
              // Not exposed by default, so not created.
              assertThat(ctx).doesNotHaveBean(LoadBalancersEndpoint.class);
            });
    runner
        .withPropertyValues(TWO_POOLS)
        .withPropertyValues("management.endpoints.web.exposure.include=loadbalancers")
        .run(ctx -> assertThat(ctx).hasSingleBean(LoadBalancersEndpoint.class));
    runner
        .withPropertyValues(TWO_POOLS)
        .withPropertyValues("management.health.loadbalancers.enabled=false")
        .run(ctx -> assertThat(ctx).doesNotHaveBean(contributor));
    runner
        .withPropertyValues(TWO_POOLS)
        .withClassLoader(new FilteredClassLoader(healthIndicatorType()))
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx).doesNotHaveBean(contributor);
            });
  }

  @Test
  void poolHealthIsDownWithoutRoutableEndpoints() {
    runner
        .withPropertyValues(TWO_POOLS)
        .run(
            ctx -> {
              LoadBalancer orders = ctx.getBean(EdgeBalancerPools.class).get("orders");
              PoolHealth up = PoolHealth.of(orders);
              assertThat(up.up()).isTrue();
              assertThat(up.details())
                  .containsEntry("routable", 2)
                  .containsEntry("strategy", "least-connections")
                  .containsEntry("panic", false);
              for (EndpointSnapshot e : orders.snapshot().endpoints()) {
                orders.maintenance(e.id(), true, "test").get();
              }
              PoolHealth down = PoolHealth.of(orders);
              assertThat(down.up()).isFalse();
              assertThat(down.details())
                  .containsEntry("routable", 0)
                  .containsEntry("states", java.util.Map.of("MAINT", 2));
            });
  }

  @Test
  void anUnknownStrategyNamesTheProperty() {
    assertFailure(
        "edge-balancer.pools.orders.strategy",
        "fastest",
        "edge-balancer.pools.orders.endpoints[0].address=127.0.0.1:9001",
        "edge-balancer.pools.orders.strategy=fastest");
  }

  @Test
  void aBadAddressNamesTheProperty() {
    assertFailure(
        "edge-balancer.pools.orders.endpoints[1].address",
        "localhost",
        "edge-balancer.pools.orders.endpoints[0].address=127.0.0.1:9001",
        "edge-balancer.pools.orders.endpoints[1].address=localhost");
  }

  @Test
  void aBadWeightNamesTheProperty() {
    assertFailure(
        "edge-balancer.pools.orders.endpoints[0].weight",
        "weight must be in",
        "edge-balancer.pools.orders.endpoints[0].address=127.0.0.1:9001",
        "edge-balancer.pools.orders.endpoints[0].weight=0");
  }

  @Test
  void aPoolWithoutEndpointsNamesTheProperty() {
    assertFailure(
        "edge-balancer.pools.orders.endpoints",
        "exactly one of",
        "edge-balancer.pools.orders.strategy=random");
  }

  @Test
  void anOutOfRangePanicThresholdNamesTheProperty() {
    assertFailure(
        "edge-balancer.pools.orders.panic-threshold",
        "0..100",
        "edge-balancer.pools.orders.endpoints[0].address=127.0.0.1:9001",
        "edge-balancer.pools.orders.panic-threshold=150");
  }

  @Test
  void anUnreadableDurationNamesTheProperty() {
    assertFailure(
        "edge-balancer.pools.orders.slow-start",
        "soon",
        "edge-balancer.pools.orders.endpoints[0].address=127.0.0.1:9001",
        "edge-balancer.pools.orders.slow-start=soon");
  }

  private void assertFailure(String property, String detail, String... properties) {
    runner
        .withPropertyValues(properties)
        .run(
            ctx -> {
              assertThat(ctx).hasFailed();
              StringBuilder messages = new StringBuilder();
              for (Throwable t = ctx.getStartupFailure(); t != null; t = t.getCause()) {
                messages.append(t.getMessage()).append('\n');
              }
              assertThat(messages.toString()).contains(property).contains(detail);
            });
  }

  @Test
  void everyTopLevelKeyHasGeneratedMetadata() throws Exception {
    JsonNode metadata;
    try (InputStream in =
        getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      assertThat(in).as("generated by spring-boot-configuration-processor").isNotNull();
      metadata = new ObjectMapper().readTree(in);
    }
    List<String> names = new ArrayList<>();
    for (JsonNode p : metadata.path("properties")) {
      names.add(p.path("name").asText());
      if (p.path("name").asText().startsWith("edge-balancer.")) {
        assertThat(p.path("description").asText()).as(p.toString()).isNotBlank();
      }
    }
    assertThat(names)
        .contains(
            "edge-balancer.pools",
            "edge-balancer.shutdown.drain-timeout",
            "edge-balancer.consul.agent",
            "edge-balancer.consul.registration.enabled",
            "edge-balancer.spring-cloud-bridge");
  }

  @Configuration(proxyBeanMethods = false)
  static class InjectedConfig {
    @Bean
    Injected injected(@Qualifier("orders") LoadBalancer orders) {
      return new Injected(orders);
    }
  }

  record Injected(LoadBalancer orders) {}
}
