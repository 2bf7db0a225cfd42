package io.miniloadbalancer.spring;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.HealthCheck;
import io.miniloadbalancer.core.HealthProbes;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.LoadBalancerBuilder;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.RetryPolicy;
import io.miniloadbalancer.core.SlowStart;
import io.miniloadbalancer.core.Strategies;
import io.miniloadbalancer.core.spi.EndpointSource;
import io.miniloadbalancer.core.spi.HealthProbe;
import io.miniloadbalancer.spring.EdgeBalancerProperties.Pool;
import io.miniloadbalancer.spring.EdgeBalancerProperties.StaticEndpoint;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.util.ClassUtils;

/**
 * Turns one pool's properties into a {@link LoadBalancer}, using lb-core's public builder only.
 * Every rejected value becomes an {@link InvalidConfigurationPropertyValueException} naming the
 * property, which Spring Boot's failure analyzer prints as "Invalid value ... for configuration
 * property ..." instead of a stack trace.
 */
final class PoolFactory {

  static final String PREFIX = "edge-balancer.pools.";

  private static final boolean CONSUL_PRESENT =
      ClassUtils.isPresent(
          "io.miniloadbalancer.consul.ConsulEndpointSource", PoolFactory.class.getClassLoader());

  private PoolFactory() {}

  /** The built pool: the balancer and the retry policy its HTTP clients use. */
  record Built(LoadBalancer balancer, RetryPolicy retryPolicy, @Nullable String hashKeyHeader) {}

  static Built build(String name, Pool pool, EdgeBalancerProperties.Consul consul) {
    String p = PREFIX + name + ".";
    LoadBalancerBuilder b = LoadBalancer.builder();
    check(p + "name", name, () -> b.name(name));
    boolean hasStatic = !pool.endpoints().isEmpty();
    boolean hasConsul = pool.consul() != null;
    if (hasStatic == hasConsul) {
      throw new InvalidConfigurationPropertyValueException(
          p + "endpoints",
          hasStatic ? "and consul both set" : "<none>",
          "a pool needs exactly one of 'endpoints' (a static list) and 'consul' (a" + " service)");
    }
    if (hasStatic) {
      b.endpoints(endpoints(p, pool.endpoints()));
    } else {
      b.source(consulSource(p + "consul.", pool.consul(), consul));
    }
    String strategy = pool.strategy();
    if (!Strategies.isKnown(strategy)) {
      throw new InvalidConfigurationPropertyValueException(
          p + "strategy", strategy, Strategies.unknownMessage(strategy));
    }
    b.strategy(strategy);
    if (pool.healthCheck() != null) {
      HealthCheck check = healthCheck(p + "health-check", pool.healthCheck());
      b.healthCheck(check);
    }
    if (pool.outlierDetection() != null) {
      b.outlierDetection(outlier(p + "outlier-detection", pool.outlierDetection()));
    }
    if (pool.slowStart() != null) {
      check(
          p + "slow-start",
          pool.slowStart(),
          () -> b.slowStart(SlowStart.linear(pool.slowStart())));
    }
    if (pool.panicThreshold() != null) {
      check(
          p + "panic-threshold",
          pool.panicThreshold(),
          () -> b.panicThreshold(pool.panicThreshold()));
    }
    if (pool.zone() != null) {
      EdgeBalancerProperties.Zone z = pool.zone();
      check(p + "zone.local", z.local(), () -> b.localZone(z.local(), z.minHealthyPercent()));
    }
    EdgeBalancerProperties.Retry r = pool.retry();
    check(
        p + "retry.budget-percent",
        r.budgetPercent(),
        () -> b.retryBudget(r.budgetPercent(), r.budgetMinPerSecond(), r.budgetWindow()));
    RetryPolicy policy =
        value(
            p + "retry.max-retries",
            r.maxRetries(),
            () -> new RetryPolicy(r.maxRetries(), r.backoffBase(), r.backoffCap()));
    LoadBalancer balancer = value(p + "endpoints", "", b::build);
    return new Built(balancer, policy, pool.hashKeyHeader());
  }

  private static List<Endpoint> endpoints(String p, List<StaticEndpoint> list) {
    List<Endpoint> out = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String key = p + "endpoints[" + i + "]";
      StaticEndpoint e = list.get(i);
      String address = e.address();
      if (address == null || address.isBlank()) {
        throw new InvalidConfigurationPropertyValueException(
            key + ".address", "<none>", "every endpoint needs an address, host:port");
      }
      int colon = address.lastIndexOf(':');
      int port;
      try {
        port = colon < 1 ? -1 : Integer.parseInt(address.substring(colon + 1));
      } catch (NumberFormatException notNumber) {
        port = -1;
      }
      if (port < 1 || port > 65_535) {
        throw new InvalidConfigurationPropertyValueException(
            key + ".address", address, "expected host:port with a port in 1..65535");
      }
      String host = address.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      String id = e.id() == null || e.id().isBlank() ? address : e.id();
      if (!ids.add(id)) {
        throw new InvalidConfigurationPropertyValueException(
            key + ".id", id, "endpoint ids must be unique within a pool");
      }
      String h = host;
      int pt = port;
      out.add(
          value(
              key + ".weight",
              e.weight(),
              () -> new Endpoint(id, h, pt, e.weight(), e.zone(), e.metadata())));
    }
    return out;
  }

  private static EndpointSource consulSource(
      String p,
      EdgeBalancerProperties.ConsulService service,
      EdgeBalancerProperties.Consul consul) {
    if (!CONSUL_PRESENT) {
      throw new InvalidConfigurationPropertyValueException(
          p + "service",
          service.service(),
          "a Consul pool needs io.miniloadbalancer:lb-consul on the class path");
    }
    if (service.service() == null || service.service().isBlank()) {
      throw new InvalidConfigurationPropertyValueException(
          p + "service", "<none>", "name the Consul service to watch");
    }
    return value(p + "service", service.service(), () -> ConsulSupport.source(service, consul));
  }

  private static HealthCheck healthCheck(String p, EdgeBalancerProperties.HealthCheck h) {
    HealthProbe probe =
        switch (h.type()) {
          case TCP -> value(p + ".timeout", h.timeout(), () -> HealthProbes.tcp(h.timeout()));
          case HTTP -> value(p + ".path", h.path(), () -> HealthProbes.http(h.path(), h.timeout()));
        };
    HealthCheck.Builder b = HealthCheck.builder(probe);
    check(p + ".timeout", h.timeout(), () -> b.timeout(h.timeout()));
    ifSet(p + ".interval", h.interval(), b::interval);
    ifSet(p + ".fast-interval", h.fastInterval(), b::fastInterval);
    ifSet(p + ".down-interval", h.downInterval(), b::downInterval);
    ifSet(p + ".rise", h.rise(), b::rise);
    ifSet(p + ".fall", h.fall(), b::fall);
    ifSet(
        p + ".new-endpoints-wait-for-probe",
        h.newEndpointsWaitForProbe(),
        b::newEndpointsWaitForProbe);
    return b.build();
  }

  private static OutlierDetection outlier(String p, EdgeBalancerProperties.OutlierDetection o) {
    OutlierDetection.Builder b = OutlierDetection.builder();
    ifSet(p + ".consecutive-failures", o.consecutiveFailures(), b::consecutiveFailures);
    ifSet(p + ".failure-rate", o.failureRate(), b::failureRate);
    ifSet(p + ".min-requests", o.minRequests(), b::minRequests);
    ifSet(p + ".interval", o.interval(), b::interval);
    ifSet(p + ".base-ejection-time", o.baseEjectionTime(), b::baseEjectionTime);
    ifSet(p + ".max-ejection-time", o.maxEjectionTime(), b::maxEjectionTime);
    ifSet(p + ".max-ejection-percent", o.maxEjectionPercent(), b::maxEjectionPercent);
    ifSet(p + ".dry-run", o.dryRun(), b::dryRun);
    return value(p, "", b::build);
  }

  private static <T> void ifSet(String property, @Nullable T value, Consumer<T> setter) {
    if (value != null) {
      check(property, value, () -> setter.accept(value));
    }
  }

  private static void check(String property, Object value, Runnable action) {
    value(
        property,
        value,
        () -> {
          action.run();
          return Boolean.TRUE;
        });
  }

  /** Runs a builder step, turning lb-core's rejection into an error that names the property. */
  private static <T> T value(String property, Object value, Supplier<T> step) {
    try {
      return step.get();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new InvalidConfigurationPropertyValueException(property, value, e.getMessage());
    }
  }
}
