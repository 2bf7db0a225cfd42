package io.miniloadbalancer.examples;

import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.DrainResult;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.StaticEndpointSource;
import io.miniloadbalancer.core.Strategies;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The lb-core quickstart from the README, as a program: a weighted pool, some picks, a strategy
 * switch at runtime, an endpoint drained while a request is in flight and then removed, and the
 * snapshot.
 *
 * <p>Run: {@code mvn -q -pl examples -am install -DskipTests && mvn -q -pl examples exec:java}
 */
public final class Quickstart {

  private Quickstart() {}

  /** Runs the quickstart and prints what the balancer did. */
  public static void main(String[] args) {
    StaticEndpointSource pool =
        new StaticEndpointSource(
            List.of(
                Endpoint.of("a", "127.0.0.1", 9001).withWeight(3),
                Endpoint.of("b", "127.0.0.1", 9002),
                Endpoint.of("c", "127.0.0.1", 9003)));

    try (LoadBalancer balancer =
        LoadBalancer.builder()
            .name("orders")
            .source(pool)
            .strategy(Strategies.ROUND_ROBIN)
            .build()) {

      // Each request takes a lease, does its I/O against lease.endpoint(), reports the
      // outcome.
      StringBuilder order = new StringBuilder();
      for (int i = 0; i < 10; i++) {
        try (Lease lease = balancer.acquire(RequestContext.none())) {
          order.append(lease.endpoint().id());
          lease.success();
        }
      }
      System.out.println("round-robin, weights a=3 b=1 c=1: " + order);

      // Switch strategy at runtime; open leases are untouched.
      balancer.switchStrategy(Strategies.RING_HASH, "quickstart").join();
      String first = pick(balancer, "user-42");
      String again = pick(balancer, "user-42");
      System.out.println("ring-hash: user-42 -> " + first + ", again -> " + again);

      // Drain an endpoint while a request holds it: no new requests, the open one finishes.
      Lease open = balancer.acquire(RequestContext.ofKey("user-42"));
      String id = open.endpoint().id();
      CompletableFuture<DrainResult> drained = balancer.drain(id, Duration.ofSeconds(5));
      System.out.println(
          "drained "
              + id
              + " with a request in flight: "
              + balancer.snapshot().endpoint(id).orElseThrow().state());
      open.success();
      System.out.println("drain finished: " + drained.join());

      // Then its source removes it: nothing is in flight, so it leaves the pool at once.
      pool.remove(id);
      System.out.println(
          "after removal, still in pool: " + balancer.snapshot().endpoint(id).isPresent());

      BalancerSnapshot snapshot = balancer.snapshot();
      System.out.println("strategy " + snapshot.strategy() + ", endpoints:");
      for (EndpointSnapshot e : snapshot.endpoints()) {
        System.out.printf(
            "  %s %-8s weight=%d in-flight=%d ok=%d%n",
            e.id(), e.state(), e.configuredWeight(), e.inFlight(), e.successes());
      }
      snapshot.recentTransitions().forEach(t -> System.out.println("  transition " + t));
    }
  }

  private static String pick(LoadBalancer balancer, String key) {
    try (Lease lease = balancer.acquire(RequestContext.ofKey(key))) {
      lease.success();
      return lease.endpoint().id();
    }
  }
}
