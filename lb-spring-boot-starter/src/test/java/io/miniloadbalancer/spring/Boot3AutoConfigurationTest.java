package io.miniloadbalancer.spring;

import io.miniloadbalancer.spring.boot3.EdgeBalancerHealthAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.actuate.health.HealthIndicator;

/** The shared context-runner tests on Spring Boot 3.5. */
class Boot3AutoConfigurationTest extends AbstractAutoConfigurationTest {

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
