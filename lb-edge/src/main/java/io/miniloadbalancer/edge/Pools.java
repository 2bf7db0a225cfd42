package io.miniloadbalancer.edge;

import io.micrometer.core.instrument.MeterRegistry;
import io.miniloadbalancer.consul.ConsulEndpointSource;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.LoadBalancerBuilder;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.RetryPolicy;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.edge.admin.AdminPlane;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.config.HealthCheckSettings;
import io.miniloadbalancer.edge.proxy.DataPlane;
import io.miniloadbalancer.metrics.LoadBalancerMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The configured pools: one balancer each (static endpoints or a Consul service, health checks,
 * outlier detection, metrics), handed to the data plane and the admin plane. Closing closes the
 * metrics, then the balancers.
 */
final class Pools implements AutoCloseable {

  private final Map<String, LoadBalancer> balancers = new LinkedHashMap<>();
  private final List<LoadBalancerMetrics> metrics = new ArrayList<>();

  /** Builds every pool of {@code config} and registers it with both planes. */
  Pools(EdgeConfig config, MeterRegistry registry, DataPlane data, AdminPlane admin) {
    for (Map.Entry<String, EdgeConfig.Pool> e : config.pools().entrySet()) {
      String name = e.getKey();
      EdgeConfig.Pool p = e.getValue();
      LoadBalancer lb = balancer(name, p, config, data);
      balancers.put(name, lb);
      RetryPolicy policy = RetryPolicy.defaults().withMaxRetries(config.upstream().maxRetries());
      Duration requestTimeout =
          p.requestTimeout() != null ? p.requestTimeout() : config.upstream().responseTimeout();
      data.addPool(name, lb, lb.retries(policy), p.hashKey(), p.sticky(), requestTimeout);
      admin.addPool(name, lb, p.hashKey());
      LoadBalancerMetrics m = LoadBalancerMetrics.builder(lb).build();
      m.bindTo(registry);
      metrics.add(m);
    }
  }

  private static LoadBalancer balancer(
      String name, EdgeConfig.Pool p, EdgeConfig config, DataPlane data) {
    LoadBalancerBuilder b = LoadBalancer.builder().name(name).strategy(p.strategy());
    if (p.consulService() != null) {
      b.source(consulSource(p, config.consul()));
    } else {
      List<Endpoint> endpoints = new ArrayList<>();
      for (EdgeConfig.StaticEndpoint s : p.endpoints()) {
        endpoints.add(
            new Endpoint(
                s.effectiveId(),
                s.host(),
                s.port(),
                s.weight(),
                s.zone() == null ? "" : s.zone(),
                Map.of()));
      }
      b.endpoints(endpoints);
    }
    HealthCheckSettings check = p.activeHealthCheck();
    if (check != null) {
      b.healthCheck(check.toHealthCheck("/"));
    }
    if (p.outlierDetection()) {
      b.outlierDetection(
          p.outlier() != null ? p.outlier().toOutlierDetection() : OutlierDetection.defaults());
    }
    if (p.sticky() != null) {
      b.drainSessionQuietPeriod(p.sticky().drainQuietPeriod());
    }
    EndpointAddresses addresses = new EndpointAddresses(data);
    b.listener(addresses);
    LoadBalancer lb = b.build();
    addresses.watch(lb);
    return lb;
  }

  private static ConsulEndpointSource consulSource(EdgeConfig.Pool p, EdgeConfig.Consul consul) {
    ConsulEndpointSource.Builder source =
        ConsulEndpointSource.builder(p.consulService()).agent(consul.agent());
    if (!p.consulTags().isEmpty()) {
      source.tags(p.consulTags().toArray(String[]::new));
    }
    if (consul.aclToken() != null) {
      source.aclToken(consul.aclToken());
    }
    return source.build();
  }

  /** The balancer of pool {@code name}, or null. */
  @Nullable LoadBalancer balancer(String name) {
    return balancers.get(name);
  }

  @Override
  public void close() {
    metrics.forEach(LoadBalancerMetrics::close);
    balancers.values().forEach(LoadBalancer::close);
  }

  /**
   * Remembers each endpoint's address, so its connection pools close when it leaves. An address is
   * new only when the source adds or changes an endpoint, so only those transitions look it up; the
   * snapshot is not built for probe, outlier, drain or operator transitions.
   */
  private static final class EndpointAddresses implements BalancerListener {

    private final DataPlane data;
    private final Map<String, Endpoint> addresses = new ConcurrentHashMap<>();
    private volatile @Nullable LoadBalancer balancer;

    EndpointAddresses(DataPlane data) {
      this.data = data;
    }

    /** Starts from the balancer's endpoints (those added before it was built). */
    void watch(LoadBalancer lb) {
      balancer = lb;
      lb.snapshot().endpoints().forEach(es -> addresses.put(es.id(), es.endpoint()));
    }

    @Override
    public void onTransition(Transition t) {
      if (t.to() == EndpointState.REMOVED) {
        Endpoint gone = addresses.remove(t.endpointId());
        if (gone != null) {
          data.forget(gone);
        }
        return;
      }
      LoadBalancer lb = balancer;
      if (t.cause() == Transition.Cause.SOURCE && lb != null) {
        lb.snapshot()
            .endpoint(t.endpointId())
            .ifPresent(es -> addresses.put(es.id(), es.endpoint()));
      }
    }
  }
}
