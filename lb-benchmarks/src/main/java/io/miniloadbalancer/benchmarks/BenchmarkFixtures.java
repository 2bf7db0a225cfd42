package io.miniloadbalancer.benchmarks;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.HealthCheck;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.LoadBalancerBuilder;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.ProbeResult;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.Strategies;
import io.miniloadbalancer.core.spi.HealthProbe;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Pools and request keys shared by {@link PickBenchmark} and {@link BoundedLoadBenchmark}, so both
 * measure exactly the same endpoint set and key stream.
 */
public final class BenchmarkFixtures {

  private BenchmarkFixtures() {}

  /**
   * {@code n} endpoints {@code e0 .. e(n-1)} on loopback addresses (nothing connects to them), port
   * 8080, with deterministic mixed weights {@code 1 + (i % 7 == 0 ? 99 : i % 3)}: 1, 2, 3 and the
   * occasional heavy 100.
   */
  static List<Endpoint> endpoints(int n) {
    List<Endpoint> list = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String host = "127.0." + (i / 250) + "." + (i % 250 + 1);
      int weight = 1 + (i % 7 == 0 ? 99 : i % 3);
      list.add(new Endpoint("e" + i, host, 8080, weight, "", Map.of()));
    }
    return list;
  }

  /**
   * A balancer over {@link #endpoints(int)}, checked before any measurement: every endpoint is
   * routable, the strategy is the one asked for, and a hash strategy without bounded loads maps a
   * key to the same endpoint twice (otherwise it would be measuring its keyless random fallback).
   */
  static LoadBalancer balancer(String strategy, int endpoints, int hashBalanceFactor) {
    return balancer(strategy, endpoints, hashBalanceFactor, false);
  }

  /**
   * As {@link #balancer(String, int, int)}; with {@code health}, active health checks (every 2 s,
   * through an in-process probe that always passes: a fake, because the benchmark's endpoints are
   * not real servers), outlier detection with breakers, and panic are all on, as in production.
   */
  static LoadBalancer balancer(
      String strategy, int endpoints, int hashBalanceFactor, boolean health) {
    LoadBalancerBuilder builder =
        LoadBalancer.builder()
            .name("bench-" + strategy + "-" + endpoints)
            .endpoints(endpoints(endpoints))
            .strategy(strategy)
            .hashBalanceFactor(hashBalanceFactor);
    if (health) {
      builder
          .healthCheck(HealthCheck.builder(ALWAYS_PASSES).build())
          .outlierDetection(OutlierDetection.defaults());
    }
    LoadBalancer balancer = builder.build();
    int routable = balancer.snapshot().endpoints().size();
    if (routable != endpoints || !balancer.strategy().equals(strategy)) {
      balancer.close();
      throw new IllegalStateException(
          "balancer not ready: " + balancer + ", expected " + endpoints + " x " + strategy);
    }
    boolean hashing = strategy.equals(Strategies.RING_HASH) || strategy.equals(Strategies.MAGLEV);
    if (hashing && hashBalanceFactor == 0) {
      RequestContext key = RequestContext.ofKey("sticky-check");
      String first = acquireAndRelease(balancer, key);
      for (int i = 0; i < 10; i++) {
        if (!first.equals(acquireAndRelease(balancer, key))) {
          balancer.close();
          throw new IllegalStateException(strategy + " is not sticky on a keyed request");
        }
      }
    }
    return balancer;
  }

  private static final HealthProbe ALWAYS_PASSES =
      endpoint -> CompletableFuture.completedFuture(ProbeResult.pass("in-process fake"));

  private static String acquireAndRelease(LoadBalancer balancer, RequestContext key) {
    try (Lease lease = balancer.acquire(key)) {
      return lease.endpoint().id();
    }
  }

  /**
   * Per-thread request keys: 1,024 contexts {@code ofKey("user-" + i)} built once (their hashes are
   * computed at construction), handed out in a cycle with no allocation on the measured path. Every
   * strategy gets the keyed context; the ones that do not hash ignore it.
   */
  @State(Scope.Thread)
  public static class Keys {

    private static final int COUNT = 1024;
    private static final int MASK = COUNT - 1;

    private final RequestContext[] contexts = new RequestContext[COUNT];
    private int next;

    /** Keys in a per-thread random order, so threads do not hit the same endpoints in lock step. */
    public Keys() {
      java.util.List<Integer> order = new java.util.ArrayList<>();
      for (int i = 0; i < COUNT; i++) {
        order.add(i);
      }
      java.util.Collections.shuffle(order);
      for (int i = 0; i < COUNT; i++) {
        contexts[i] = RequestContext.ofKey("user-" + order.get(i));
      }
    }

    RequestContext next() {
      return contexts[next++ & MASK];
    }
  }
}
