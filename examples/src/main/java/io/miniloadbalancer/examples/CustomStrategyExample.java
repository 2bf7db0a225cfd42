package io.miniloadbalancer.examples;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.strategy.EndpointTable;
import io.miniloadbalancer.core.strategy.Picker;
import io.miniloadbalancer.core.strategy.Strategy;

/**
 * The README's "Add your own strategy", as a program: a strategy that sends each request to the
 * endpoint with the fewest open requests, preferring the one listed first, registered on the
 * builder and switched to at runtime.
 *
 * <p>Run: {@code mvn -q -pl examples exec:java
 * -Dexec.mainClass=io.miniloadbalancer.examples.CustomStrategyExample}
 */
public final class CustomStrategyExample {

  private CustomStrategyExample() {}

  /** Fewest open requests, ties to the endpoint listed first. */
  static final class FewestOpen implements Strategy {
    @Override
    public String name() {
      return "fewest-open";
    }

    @Override
    public Picker newPicker(EndpointTable table) {
      // Runs on the control thread once per published table; the lambda runs per request
      // and must not lock or allocate.
      return (context, nowNanos, attempt) -> {
        int best = 0;
        for (int i = 1; i < table.size(); i++) {
          if (table.inFlight(i) < table.inFlight(best)) {
            best = i;
          }
        }
        return best;
      };
    }
  }

  /** Registers the strategy, switches to it and prints where three overlapping requests go. */
  public static void main(String[] args) {
    try (LoadBalancer balancer =
        LoadBalancer.builder()
            .endpoints(Endpoint.of("a", "127.0.0.1", 9001), Endpoint.of("b", "127.0.0.1", 9002))
            .addStrategy(new FewestOpen())
            .build()) {
      balancer.switchStrategy("fewest-open", "example").join();
      Lease first = balancer.acquire(RequestContext.none());
      Lease second = balancer.acquire(RequestContext.none());
      System.out.println(first.endpoint().id() + " then " + second.endpoint().id());
      first.success();
      second.success();
    }
  }
}
