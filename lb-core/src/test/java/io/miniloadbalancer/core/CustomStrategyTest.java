package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.miniloadbalancer.core.strategy.EndpointTable;
import io.miniloadbalancer.core.strategy.Picker;
import io.miniloadbalancer.core.strategy.Strategy;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A user's strategy enters through the builder or ServiceLoader and is switched to at runtime. */
class CustomStrategyTest {

  /** The least-loaded endpoint by the public view's live counters, ties to the last. */
  static final class LastLeastLoaded implements Strategy {
    @Override
    public String name() {
      return "last-least-loaded";
    }

    @Override
    public Picker newPicker(EndpointTable table) {
      return (context, nowNanos, attempt) -> {
        int best = table.size() - 1;
        for (int i = best - 1; i >= 0; i--) {
          if (table.inFlight(i) < table.inFlight(best)) {
            best = i;
          }
        }
        return best;
      };
    }
  }

  private final FakeTicker ticker = new FakeTicker();

  private LoadBalancerBuilder builder() {
    return LoadBalancer.builder()
        .endpoints(TestPools.uniform(3))
        .ticker(ticker)
        .minSwitchInterval(Duration.ZERO);
  }

  private static Map<String, Integer> picks(LoadBalancer lb, int n) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Lease lease = lb.acquire(RequestContext.none());
      counts.merge(lease.endpoint().id(), 1, Integer::sum);
      lease.success();
    }
    return counts;
  }

  @Test
  void aBuilderAddedStrategyIsPickableAtStartAndByARuntimeSwitch() {
    LoadBalancer lb = builder().addStrategy(new LastLeastLoaded()).build();
    assertThat(picks(lb, 30)).containsOnlyKeys("e0", "e1", "e2"); // round-robin still
    assertThat(lb.switchStrategy("last-least-loaded").join().strategy())
        .isEqualTo("last-least-loaded");
    assertThat(picks(lb, 30)).containsExactly(Map.entry("e2", 30));
    Lease held = lb.acquire(RequestContext.none());
    assertThat(held.endpoint().id()).isEqualTo("e2");
    // The picker reads live in-flight counts: with e2 busy, the next least loaded wins.
    assertThat(lb.acquire(RequestContext.none()).endpoint().id()).isEqualTo("e1");

    LoadBalancer fromStart =
        LoadBalancer.builder()
            .endpoints(TestPools.uniform(3))
            .addStrategy(new LastLeastLoaded())
            .strategy("last-least-loaded")
            .build();
    assertThat(picks(fromStart, 10)).containsExactly(Map.entry("e2", 10));
    lb.close();
    fromStart.close();
  }

  @Test
  void aServiceLoadedStrategyIsKnownToEveryBalancerAndSwitchable() {
    assertThat(Strategies.names()).startsWith(Strategies.ROUND_ROBIN).contains("first-listed");
    LoadBalancer lb = builder().strategy(Strategies.RANDOM).build();
    lb.switchStrategy(FirstListedStrategy.NAME).join();
    assertThat(lb.strategy()).isEqualTo("first-listed");
    assertThat(picks(lb, 20)).containsExactly(Map.entry("e0", 20));
    // A retry's exclusion makes the balancer ask again: the picker's next attempt answers.
    Lease lease = lb.acquire(RequestContext.none().excluding("e0"));
    assertThat(lease.endpoint().id()).isEqualTo("e1");
    lb.close();
  }

  @Test
  void aStrategyAddedToOneBuilderIsUnknownElsewhereAndNamesMustBeUnique() {
    LoadBalancer plain = builder().build();
    assertThatThrownBy(() -> plain.switchStrategy("last-least-loaded"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown strategy 'last-least-loaded'")
        .hasMessageContaining("first-listed");
    assertThatThrownBy(() -> LoadBalancer.builder().strategy("last-least-loaded"))
        .isInstanceOf(IllegalArgumentException.class);
    Strategy clash =
        new Strategy() {
          @Override
          public String name() {
            return Strategies.MAGLEV;
          }

          @Override
          public Picker newPicker(EndpointTable table) {
            return Picker.EMPTY;
          }
        };
    assertThatThrownBy(() -> LoadBalancer.builder().addStrategy(clash))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("strategy 'maglev' is already registered");
    plain.close();
  }

  @Test
  void aStrategyThatFailsToBuildAPickerFallsBackToRoundRobinInsteadOfBreakingThePool() {
    Strategy broken =
        new Strategy() {
          @Override
          public String name() {
            return "broken";
          }

          @Override
          public Picker newPicker(EndpointTable table) {
            throw new IllegalStateException("boom");
          }
        };
    LoadBalancer lb = builder().addStrategy(broken).strategy("broken").build();
    assertThat(picks(lb, 30)).containsOnlyKeys("e0", "e1", "e2");
    lb.close();
  }

  @Test
  void everySettingIsSetOnceAndTheErrorNamesIt() {
    assertThatThrownBy(() -> LoadBalancer.builder().name("a").name("b"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("name was already set");
    assertThatThrownBy(() -> LoadBalancer.builder().panicThreshold(10).panicThreshold(20))
        .hasMessage("panicThreshold was already set");
    assertThatThrownBy(
            () ->
                LoadBalancer.builder()
                    .retryBudget(10, 1, Duration.ofSeconds(5))
                    .retryBudget(20, 1, Duration.ofSeconds(5)))
        .hasMessage("retryBudget was already set");
    // A rejected value does not count as set, and a builder builds again with its settings.
    LoadBalancerBuilder b = LoadBalancer.builder().endpoints(TestPools.uniform(1));
    assertThatThrownBy(() -> b.panicThreshold(101))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("panicThreshold");
    b.panicThreshold(0).name("twice");
    try (LoadBalancer one = b.build();
        LoadBalancer two = b.build()) {
      assertThat(one.name()).isEqualTo(two.name()).isEqualTo("twice");
    }
  }
}
