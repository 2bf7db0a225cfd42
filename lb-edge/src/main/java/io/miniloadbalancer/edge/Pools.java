package io.miniloadbalancer.edge;

import io.micrometer.core.instrument.MeterRegistry;
import io.miniloadbalancer.consul.ConsulEndpointSource;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.LoadBalancerBuilder;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.RetryPolicy;
import io.miniloadbalancer.core.StaticEndpointSource;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.edge.admin.AdminPlane;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.config.HealthCheckSettings;
import io.miniloadbalancer.edge.logging.TransitionLog;
import io.miniloadbalancer.edge.proxy.DataPlane;
import io.miniloadbalancer.metrics.LoadBalancerMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configured pools: one balancer each (static endpoints or a Consul service, health checks,
 * outlier detection, metrics), handed to the data plane and the admin plane. Closing closes the
 * metrics, then the balancers.
 *
 * <p>A config reload ({@link #apply}) changes them live. A pool whose static endpoints or strategy
 * changed keeps its balancer: its {@link StaticEndpointSource} gets the new set (a removed endpoint
 * drains first) and the strategy is switched. Any other change (health check, outlier detection,
 * hash key, sticky settings, Consul service, retries) cannot be made on a live lb-core balancer, so
 * the pool gets a new balancer, swapped into both planes at once; exchanges under way finish on the
 * old one, which is closed once its in-flight count reaches zero (bounded by {@code
 * server.drainTimeout}). A removed pool stops taking requests at once and is closed the same way.
 * Changes run one at a time (the reloader's thread); the planes read without a lock.
 */
final class Pools implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Pools.class);

  /** A pool as built: its settings, balancer, static source (if any) and meters. */
  record Built(
      EdgeConfig.Pool config,
      int maxRetries,
      LoadBalancer balancer,
      @Nullable StaticEndpointSource source,
      LoadBalancerMetrics metrics) {}

  private final Map<String, Built> pools = new ConcurrentHashMap<>();
  private final MeterRegistry registry;
  private final DataPlane data;
  private final AdminPlane admin;

  /** Builds every pool of {@code config} and registers it with both planes. */
  Pools(EdgeConfig config, MeterRegistry registry, DataPlane data, AdminPlane admin) {
    this.registry = registry;
    this.data = data;
    this.admin = admin;
    for (Map.Entry<String, EdgeConfig.Pool> e : config.pools().entrySet()) {
      install(e.getKey(), e.getValue(), config);
    }
  }

  /** Builds pool {@code name} and puts it into both planes, replacing one of the same name. */
  private Built install(String name, EdgeConfig.Pool p, EdgeConfig config) {
    StaticEndpointSource source =
        p.consulService() == null ? new StaticEndpointSource(endpoints(p)) : null;
    LoadBalancer lb = balancer(name, p, config, data, source);
    int maxRetries = config.upstream().maxRetries();
    RetryPolicy policy = RetryPolicy.defaults().withMaxRetries(maxRetries);
    Duration requestTimeout =
        p.requestTimeout() != null ? p.requestTimeout() : config.upstream().responseTimeout();
    data.addPool(name, lb, lb.retries(policy), p.hashKey(), p.sticky(), requestTimeout);
    admin.addPool(name, lb, p.hashKey());
    Built old = pools.get(name);
    if (old != null) {
      // Micrometer keeps the first gauge of a name: the old meters go before the new ones bind.
      old.metrics().close();
    }
    LoadBalancerMetrics m = LoadBalancerMetrics.builder(lb).build();
    m.bindTo(registry);
    Built built = new Built(p, maxRetries, lb, source, m);
    pools.put(name, built);
    return built;
  }

  /**
   * Applies {@code next}'s pools and routes; returns what changed, one line each. Pools taken out
   * of service are handed to {@code retire}, which closes them once their in-flight leases end.
   */
  List<String> apply(EdgeConfig next, Consumer<Built> retire) {
    List<String> changes = new ArrayList<>();
    int maxRetries = next.upstream().maxRetries();
    for (Map.Entry<String, EdgeConfig.Pool> e : next.pools().entrySet()) {
      String name = e.getKey();
      EdgeConfig.Pool p = e.getValue();
      Built old = pools.get(name);
      if (old == null) {
        install(name, p, next);
        changes.add("pool '" + name + "' added");
      } else if (old.config().equals(p) && old.maxRetries() == maxRetries) {
        continue;
      } else if (old.source() != null
          && p.consulService() == null
          && old.maxRetries() == maxRetries
          && sameExceptEndpointsAndStrategy(old.config(), p)
          && changeInPlace(name, old, p, changes)) {
        pools.put(name, new Built(p, maxRetries, old.balancer(), old.source(), old.metrics()));
      } else {
        install(name, p, next);
        retire.accept(old);
        changes.add(
            "pool '"
                + name
                + "' rebuilt (settings a live balancer cannot change); in-flight requests finish"
                + " on the old balancer");
      }
    }
    data.routes(next.routes());
    for (String name : List.copyOf(pools.keySet())) {
      if (!next.pools().containsKey(name)) {
        data.removePool(name);
        admin.removePool(name);
        Built old = pools.remove(name);
        old.metrics().close();
        retire.accept(old);
        changes.add("pool '" + name + "' removed; its in-flight requests finish");
      }
    }
    return changes;
  }

  private static boolean sameExceptEndpointsAndStrategy(EdgeConfig.Pool a, EdgeConfig.Pool b) {
    return new EdgeConfig.Pool(
            b.strategy(),
            b.endpoints(),
            a.consulService(),
            a.consulTags(),
            a.hashKey(),
            a.healthCheckPath(),
            a.outlierDetection(),
            a.sticky(),
            a.requestTimeout(),
            a.healthCheck(),
            a.outlier())
        .equals(b);
  }

  /**
   * Gives the pool's source its new endpoint set and switches its strategy; false (nothing changed)
   * when the balancer refuses the switch (its minimum interval between switches), so the caller
   * rebuilds the pool instead.
   */
  private static boolean changeInPlace(
      String name, Built old, EdgeConfig.Pool p, List<String> changes) {
    LoadBalancer lb = old.balancer();
    if (!lb.strategy().equals(p.strategy())) {
      try {
        lb.switchStrategy(p.strategy(), "reload").get(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } catch (ExecutionException | TimeoutException e) {
        LOG.info("pool '{}': strategy switch refused ({}); rebuilding the pool", name, e);
        return false;
      }
      changes.add(
          "pool '" + name + "' strategy " + old.config().strategy() + " -> " + p.strategy());
    }
    if (!old.config().endpoints().equals(p.endpoints())) {
      StaticEndpointSource source = old.source();
      Map<String, Endpoint> wanted = new LinkedHashMap<>();
      endpoints(p).forEach(ep -> wanted.put(ep.id(), ep));
      // Add and update first, remove last: the pool is never emptier than either set.
      for (Endpoint ep : wanted.values()) {
        Endpoint had = find(source.endpoints(), ep.id());
        if (had == null) {
          source.add(ep);
        } else if (!had.equals(ep)) {
          source.update(ep);
        }
      }
      for (Endpoint had : source.endpoints()) {
        if (!wanted.containsKey(had.id())) {
          source.remove(had.id());
        }
      }
      changes.add("pool '" + name + "' endpoints now " + wanted.keySet());
    }
    return true;
  }

  private static @Nullable Endpoint find(List<Endpoint> endpoints, String id) {
    for (Endpoint e : endpoints) {
      if (e.id().equals(id)) {
        return e;
      }
    }
    return null;
  }

  private static List<Endpoint> endpoints(EdgeConfig.Pool p) {
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
    return endpoints;
  }

  private static LoadBalancer balancer(
      String name,
      EdgeConfig.Pool p,
      EdgeConfig config,
      DataPlane data,
      @Nullable StaticEndpointSource source) {
    LoadBalancerBuilder b = LoadBalancer.builder().name(name).strategy(p.strategy());
    if (source == null) {
      b.source(consulSource(p, config.consul()));
    } else {
      b.source(source);
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
    b.listener(new TransitionLog(name));
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
    Built b = pools.get(name);
    return b == null ? null : b.balancer();
  }

  @Override
  public void close() {
    pools.values().forEach(b -> b.metrics().close());
    pools.values().forEach(b -> b.balancer().close());
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
