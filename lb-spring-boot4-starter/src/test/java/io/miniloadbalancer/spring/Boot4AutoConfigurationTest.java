package io.miniloadbalancer.spring;

import io.miniloadbalancer.spring.boot4.EdgeBalancerHealthAutoConfiguration;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;

/** The shared context-runner tests on Spring Boot 4.0. */
class Boot4AutoConfigurationTest extends AbstractAutoConfigurationTest {

  @Override
  protected Class<?>[] autoConfigurations() {
    return new Class<?>[] {
      EdgeBalancerAutoConfiguration.class, EdgeBalancerHealthAutoConfiguration.class
    };
  }

  @Override
  protected Class<?>[] simpleMetricsAutoConfigurations() {
    return new Class<?>[] {
      MetricsAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class
    };
  }

  @Override
  protected Class<?> healthIndicatorType() {
    return HealthIndicator.class;
  }
}
