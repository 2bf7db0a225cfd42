package io.miniloadbalancer.spring;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.RetryExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;

/**
 * The application's pools, built from {@code edge-balancer.pools}: one {@link LoadBalancer} per
 * pool, with the retry executor its HTTP clients share. Also a {@link SmartLifecycle}: when the
 * context stops, after the web server's graceful shutdown has let inbound requests finish, every
 * endpoint of every pool is drained (no new picks; in-flight requests finish), bounded by {@code
 * edge-balancer.shutdown.drain-timeout}; the pools close with the context.
 *
 * <pre>{@code
 * LoadBalancer orders = pools.get("orders");
 * }</pre>
 *
 * <p>Thread-safe; the set of pools is fixed once built.
 */
public final class EdgeBalancerPools implements SmartLifecycle, DisposableBean {

  private static final Logger LOG = LoggerFactory.getLogger(EdgeBalancerPools.class);

  /** One pool with what its HTTP clients need. */
  record Pool(
      String name, LoadBalancer balancer, RetryExecutor retries, @Nullable String hashKeyHeader) {}

  private final Map<String, Pool> pools;
  private final Duration drainTimeout;
  private volatile boolean running;

  EdgeBalancerPools(EdgeBalancerProperties properties) {
    Map<String, Pool> built = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, EdgeBalancerProperties.Pool> e : properties.pools().entrySet()) {
        String name = e.getKey().toLowerCase(Locale.ROOT);
        PoolFactory.Built b = PoolFactory.build(name, e.getValue(), properties.consul());
        built.put(
            name,
            new Pool(name, b.balancer(), b.balancer().retries(b.retryPolicy()), b.hashKeyHeader()));
      }
    } catch (RuntimeException e) {
      built.values().forEach(p -> p.balancer().close());
      throw e;
    }
    this.pools = Collections.unmodifiableMap(built);
    this.drainTimeout = properties.shutdown().drainTimeout();
  }

  /**
   * The pool's balancer.
   *
   * @param name the pool's name
   * @return the pool's balancer
   * @throws IllegalArgumentException naming the known pools, when there is no such pool
   */
  public LoadBalancer get(String name) {
    LoadBalancer b = find(name);
    if (b == null) {
      throw new IllegalArgumentException("no pool '" + name + "'; pools: " + pools.keySet());
    }
    return b;
  }

  /**
   * The pool's balancer, or null.
   *
   * @param name the pool's name (case-insensitive, as a URL host)
   * @return the pool's balancer, or null when there is no such pool
   */
  public @Nullable LoadBalancer find(String name) {
    Pool p = pool(name);
    return p == null ? null : p.balancer();
  }

  /**
   * The pools' names, in configuration order.
   *
   * @return the pools' names
   */
  public Set<String> names() {
    return pools.keySet();
  }

  /**
   * The pool's retry executor (the pool's retry policy, its shared budget).
   *
   * @param name the pool's name
   * @return the pool's retry executor
   * @throws IllegalArgumentException when there is no such pool
   */
  public RetryExecutor retries(String name) {
    Pool p = pool(name);
    if (p == null) {
      throw new IllegalArgumentException("no pool '" + name + "'; pools: " + pools.keySet());
    }
    return p.retries();
  }

  @Nullable Pool pool(@Nullable String host) {
    if (host == null) {
      return null;
    }
    Pool p = pools.get(host);
    return p != null ? p : pools.get(host.toLowerCase(Locale.ROOT));
  }

  @Override
  public void start() {
    running = true;
  }

  @Override
  public void stop() {
    drainAll();
    running = false;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /**
   * Below the web server's graceful shutdown ({@code DEFAULT_PHASE - 1024}) and above its stop
   * ({@code DEFAULT_PHASE - 2048}): inbound requests have finished (and with them the outbound
   * calls they made) before the pools drain what is left, such as scheduled jobs' calls.
   */
  @Override
  public int getPhase() {
    return SmartLifecycle.DEFAULT_PHASE - 1536;
  }

  private void drainAll() {
    List<CompletableFuture<?>> drains = new ArrayList<>();
    for (Pool p : pools.values()) {
      for (EndpointSnapshot e : p.balancer().snapshot().endpoints()) {
        drains.add(p.balancer().drain(e.id(), drainTimeout));
      }
    }
    try {
      CompletableFuture.allOf(drains.toArray(CompletableFuture[]::new))
          .get(drainTimeout.toMillis() + 1_000, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.warn("edge-balancer: pools did not drain within {}: {}", drainTimeout, e.toString());
    }
  }

  /** Closes every pool (timers, sources). */
  @Override
  public void destroy() {
    for (Pool p : pools.values()) {
      try {
        p.balancer().close();
      } catch (RuntimeException e) {
        LOG.warn("edge-balancer: closing pool {} failed: {}", p.name(), e.toString());
      }
    }
  }

  @Override
  public String toString() {
    return "EdgeBalancerPools" + requireNonNull(pools.keySet());
  }
}
