package io.miniloadbalancer.spring;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.miniloadbalancer.metrics.LoadBalancerMetrics;
import java.util.ArrayList;
import java.util.List;
import org.springframework.beans.factory.DisposableBean;

/**
 * Binds lb-metrics' {@link LoadBalancerMetrics} for every pool to the application's {@link
 * MeterRegistry} (Spring Boot binds every {@link MeterBinder} bean to it): the {@code lb.*} meters,
 * tagged {@code pool=<name>}. Removes them when the context closes.
 */
public final class EdgeBalancerMeterBinder implements MeterBinder, DisposableBean {

  private final EdgeBalancerPools pools;
  private final List<LoadBalancerMetrics> bound = new ArrayList<>();

  /**
   * A binder for the application's pools.
   *
   * @param pools the pools
   */
  public EdgeBalancerMeterBinder(EdgeBalancerPools pools) {
    this.pools = pools;
  }

  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    for (String name : pools.names()) {
      LoadBalancerMetrics metrics = LoadBalancerMetrics.builder(pools.get(name)).build();
      metrics.bindTo(registry);
      bound.add(metrics);
    }
  }

  @Override
  public synchronized void destroy() {
    bound.forEach(LoadBalancerMetrics::close);
    bound.clear();
  }
}
