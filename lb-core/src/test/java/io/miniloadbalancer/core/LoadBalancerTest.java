package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.miniloadbalancer.core.spi.BalancerListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class LoadBalancerTest {

  private final FakeTicker ticker = new FakeTicker();

  private LoadBalancerBuilder builder() {
    return LoadBalancer.builder().name("orders").ticker(ticker).randomSource(TestPools.seeded(3));
  }

  @Test
  void leaseCountsInFlightExactlyOnceWhateverTheCallerDoes() {
    LoadBalancer lb = builder().endpoints(TestPools.uniform(1)).build();
    Lease a = lb.acquire(RequestContext.none());
    Lease b = lb.acquire(RequestContext.none());
    Lease c = lb.acquire(RequestContext.none());
    assertThat(inFlight(lb, "e0")).isEqualTo(3);

    a.success();
    a.success();
    a.close();
    b.close();
    b.close();
    b.failure();
    c.complete(Outcome.FAILURE, 5_000_000);
    c.close();

    EndpointSnapshot e = lb.snapshot().endpoint("e0").orElseThrow();
    assertThat(e.inFlight()).isZero();
    assertThat(e.successes()).isEqualTo(1);
    assertThat(e.cancellations()).isEqualTo(1);
    assertThat(e.failures()).isEqualTo(1);
    assertThat(a.isDone() && b.isDone() && c.isDone()).isTrue();
  }

  @Test
  void leaseTimesTheRequestWithTheTicker() {
    LoadBalancer lb =
        builder().endpoints(TestPools.uniform(1)).ewmaDefaultRtt(Duration.ZERO).build();
    Lease lease = lb.acquire(RequestContext.none());
    ticker.advance(Duration.ofMillis(40));
    lease.success();
    assertThat(lb.snapshot().endpoint("e0").orElseThrow().ewmaLatencyMillis()).isEqualTo(40.0);
  }

  @Test
  void emptyPoolThrowsASharedExceptionThatSummarizesThePool() {
    LoadBalancer lb = builder().source(new StaticEndpointSource()).build();
    assertThatThrownBy(() -> lb.acquire(RequestContext.none()))
        .isInstanceOf(NoEndpointAvailableException.class)
        .hasMessageContaining("pool 'orders'")
        .hasMessageContaining("empty");
    NoEndpointAvailableException first = catchNoEndpoint(lb);
    assertThat(catchNoEndpoint(lb)).isSameAs(first);
    assertThat(first.getStackTrace()).isEmpty();
  }

  @Test
  void removedEndpointDrainsTakesNoNewRequestsThenLeaves() {
    StaticEndpointSource source = new StaticEndpointSource(TestPools.uniform(2));
    List<Transition> heard = new CopyOnWriteArrayList<>();
    LoadBalancer lb =
        builder()
            .source(source)
            .listener(
                new BalancerListener() {
                  @Override
                  public void onTransition(Transition transition) {
                    heard.add(transition);
                  }
                })
            .build();
    List<Lease> onE0 = new ArrayList<>();
    while (onE0.size() < 2) {
      Lease lease = lb.acquire(RequestContext.none());
      if (lease.endpoint().id().equals("e0")) {
        onE0.add(lease);
      } else {
        lease.success();
      }
    }

    source.remove("e0");

    EndpointSnapshot draining = lb.snapshot().endpoint("e0").orElseThrow();
    assertThat(draining.state()).isEqualTo(EndpointState.DRAINING);
    assertThat(draining.routable()).isFalse();
    assertThat(draining.inFlight()).isEqualTo(2);
    assertThat(draining.lastTransition().reason()).contains("removed by source", "2 in-flight");
    for (int i = 0; i < 1_000; i++) {
      try (Lease lease = lb.acquire(RequestContext.none())) {
        assertThat(lease.endpoint().id()).isEqualTo("e1");
      }
    }

    onE0.get(0).success();
    assertThat(lb.snapshot().endpoint("e0")).isPresent();
    onE0.get(1).failure();
    // The last lease's end is handed to the balancer's timer thread, which removes the
    // endpoint.
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> lb.snapshot().endpoint("e0").isEmpty());
    assertThat(heard)
        .extracting(Transition::endpointId, Transition::to)
        .containsSubsequence(
            org.assertj.core.groups.Tuple.tuple("e0", EndpointState.DRAINING),
            org.assertj.core.groups.Tuple.tuple("e0", EndpointState.REMOVED));
  }

  @Test
  void reAddingADrainingEndpointReturnsItToRotation() {
    StaticEndpointSource source = new StaticEndpointSource(TestPools.uniform(2));
    LoadBalancer lb = builder().source(source).build();
    Lease held = acquireOn(lb, "e0");
    source.remove("e0");
    source.add(TestPools.uniform(1).get(0));
    EndpointSnapshot e0 = lb.snapshot().endpoint("e0").orElseThrow();
    assertThat(e0.state()).isEqualTo(EndpointState.HEALTHY);
    assertThat(e0.routable()).isTrue();
    assertThat(e0.lastTransition().reason()).contains("re-added");
    held.success();
    assertThat(lb.snapshot().endpoint("e0")).isPresent();
  }

  @Test
  void updatedWeightTakesEffectWithoutLosingCounters() {
    StaticEndpointSource source = new StaticEndpointSource(TestPools.uniform(2));
    LoadBalancer lb = builder().source(source).build();
    Lease held = acquireOn(lb, "e0");
    source.update(
        TestPools.uniform(1).get(0).withWeight(3).withMetadata(java.util.Map.of("v", "2")));
    int e0 = 0;
    for (int i = 0; i < 400; i++) {
      try (Lease lease = lb.acquire(RequestContext.none())) {
        e0 += lease.endpoint().id().equals("e0") ? 1 : 0;
      }
    }
    assertThat(e0).isEqualTo(300);
    EndpointSnapshot snap = lb.snapshot().endpoint("e0").orElseThrow();
    assertThat(snap.configuredWeight()).isEqualTo(3);
    assertThat(snap.effectiveWeight()).isEqualTo(3.0);
    assertThat(snap.endpoint().metadata()).containsEntry("v", "2");
    assertThat(snap.inFlight()).isEqualTo(1);
    held.success();
    assertThat(lb.snapshot().endpoint("e0").orElseThrow().inFlight()).isZero();
  }

  @Test
  void aSetWithDuplicateIdsIsRejectedAndTheLastGoodSetKept() {
    List<io.miniloadbalancer.core.spi.EndpointSource.Listener> sink = new ArrayList<>();
    LoadBalancer lb = builder().source(sink::add).build();
    sink.get(0).onEndpoints(TestPools.uniform(2));
    sink.get(0)
        .onEndpoints(List.of(Endpoint.of("x", "127.0.0.1", 1), Endpoint.of("x", "127.0.0.1", 2)));
    assertThat(lb.snapshot().endpoints())
        .extracting(EndpointSnapshot::id)
        .containsExactly("e0", "e1");
    assertThat(lb.acquire(RequestContext.none()).endpoint().id()).isIn("e0", "e1");
  }

  @Test
  void strategySwitchIsAtomicObservableAndKeepsLeases() {
    List<StrategySwitch> switches = new CopyOnWriteArrayList<>();
    LoadBalancer lb =
        builder()
            .endpoints(TestPools.uniform(3))
            .minSwitchInterval(Duration.ofSeconds(10))
            .listener(
                new BalancerListener() {
                  @Override
                  public void onStrategySwitch(StrategySwitch s) {
                    switches.add(s);
                  }
                })
            .build();
    Lease held = lb.acquire(RequestContext.none());

    BalancerSnapshot after = lb.switchStrategy(Strategies.MAGLEV, "operator: test").join();

    assertThat(after.strategy()).isEqualTo("maglev");
    assertThat(lb.strategy()).isEqualTo("maglev");
    assertThat(after.lastSwitch()).isNotNull();
    assertThat(after.lastSwitch().from()).isEqualTo("round-robin");
    assertThat(after.lastSwitch().reason()).isEqualTo("operator: test");
    assertThat(switches).singleElement().extracting(StrategySwitch::to).isEqualTo("maglev");
    assertThat(after.totalInFlight()).isEqualTo(1);
    held.success();
    assertThat(lb.snapshot().totalInFlight()).isZero();
  }

  @Test
  void switchesCloserThanTheDwellTimeAreRefused() {
    LoadBalancer lb =
        builder().endpoints(TestPools.uniform(2)).minSwitchInterval(Duration.ofSeconds(10)).build();
    lb.switchStrategy(Strategies.RANDOM).join();
    ticker.advance(Duration.ofSeconds(4));
    assertThatThrownBy(() -> lb.switchStrategy(Strategies.MAGLEV).join())
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOf(StrategySwitchRejectedException.class)
        .hasMessageContaining("minSwitchInterval is 10000 ms")
        .hasMessageContaining("retry in 6000 ms");
    assertThat(lb.strategy()).isEqualTo("random");
    ticker.advance(Duration.ofSeconds(6));
    assertThat(lb.switchStrategy(Strategies.MAGLEV).join().strategy()).isEqualTo("maglev");
  }

  @Test
  void switchingToTheCurrentStrategyIsANoOpWithoutEvent() {
    List<StrategySwitch> switches = new CopyOnWriteArrayList<>();
    LoadBalancer lb =
        builder()
            .endpoints(TestPools.uniform(2))
            .listener(
                new BalancerListener() {
                  @Override
                  public void onStrategySwitch(StrategySwitch s) {
                    switches.add(s);
                  }
                })
            .build();
    assertThat(lb.switchStrategy(Strategies.ROUND_ROBIN).join().lastSwitch()).isNull();
    assertThat(switches).isEmpty();
  }

  @Test
  void unknownStrategyNamesAreRejectedWithTheValidOnes() {
    LoadBalancer lb = builder().endpoints(TestPools.uniform(1)).build();
    assertThatThrownBy(() -> lb.switchStrategy("fastest"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown strategy 'fastest'")
        .hasMessageContaining(
            "round-robin, random, least-connections, least-connections-p2c,"
                + " p2c-ewma, ring-hash, maglev");
    assertThatThrownBy(() -> LoadBalancer.builder().strategy("RoundRobin"))
        .hasMessageContaining("valid strategies");
  }

  @Test
  void aThrowingListenerBreaksNeitherTheBalancerNorOtherListeners() {
    List<Transition> heard = new CopyOnWriteArrayList<>();
    StaticEndpointSource source = new StaticEndpointSource(TestPools.uniform(1));
    LoadBalancer lb =
        builder()
            .source(source)
            .minSwitchInterval(Duration.ZERO)
            .listener(
                new BalancerListener() {
                  @Override
                  public void onTransition(Transition transition) {
                    throw new IllegalStateException("boom");
                  }

                  @Override
                  public void onStrategySwitch(StrategySwitch s) {
                    throw new IllegalStateException("boom");
                  }
                })
            .listener(
                new BalancerListener() {
                  @Override
                  public void onTransition(Transition transition) {
                    heard.add(transition);
                  }
                })
            .build();
    source.add(Endpoint.of("late", "127.0.0.1", 9));
    assertThat(lb.switchStrategy(Strategies.RANDOM).join().strategy()).isEqualTo("random");
    assertThat(heard).extracting(Transition::endpointId).containsExactly("e0", "late");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      try (Lease lease = lb.acquire(RequestContext.none())) {
        seen.add(lease.endpoint().id());
      }
    }
    assertThat(seen).containsExactlyInAnyOrder("e0", "late");
  }

  @Test
  void transitionLogIsBoundedAndOrdered() {
    StaticEndpointSource source = new StaticEndpointSource();
    LoadBalancer lb = builder().source(source).transitionLogSize(4).build();
    for (int i = 0; i < 6; i++) {
      source.add(Endpoint.of("n" + i, "127.0.0.1", 1000 + i));
    }
    assertThat(lb.snapshot().recentTransitions())
        .extracting(Transition::endpointId)
        .containsExactly("n2", "n3", "n4", "n5");
  }

  @Test
  void hashStrategiesWithoutAKeyFallBackToWeightedRandom() {
    for (String strategy : List.of(Strategies.RING_HASH, Strategies.MAGLEV)) {
      LoadBalancer lb = builder().endpoints(TestPools.weighted(1, 3)).strategy(strategy).build();
      int heavy = 0;
      for (int i = 0; i < 20_000; i++) {
        try (Lease lease = lb.acquire(RequestContext.none())) {
          heavy += lease.endpoint().id().equals("e1") ? 1 : 0;
        }
      }
      assertThat(heavy / 20_000.0)
          .as(strategy)
          .isCloseTo(0.75, org.assertj.core.data.Offset.offset(0.03));
    }
  }

  @Test
  void builderRejectsConflictingOrMissingSettingsByName() {
    assertThatThrownBy(() -> LoadBalancer.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("endpoints(...) or source(...)");
    assertThatThrownBy(
            () ->
                LoadBalancer.builder()
                    .endpoints(TestPools.uniform(1))
                    .source(new StaticEndpointSource())
                    .build())
        .hasMessageContaining("not both");
    assertThatThrownBy(() -> LoadBalancer.builder().hashBalanceFactor(90))
        .hasMessageContaining("hashBalanceFactor");
    assertThatThrownBy(() -> LoadBalancer.builder().ringSize(10, 5))
        .hasMessageContaining("ringSize");
    assertThatThrownBy(() -> LoadBalancer.builder().minSwitchInterval(Duration.ofSeconds(-1)))
        .hasMessageContaining("minSwitchInterval");
    assertThatThrownBy(
            () ->
                new StaticEndpointSource(
                    List.of(Endpoint.of("a", "h", 1), Endpoint.of("a", "h", 2))))
        .hasMessageContaining("duplicate endpoint id 'a'");
  }

  @Test
  void closedBalancerRefusesSwitches() {
    LoadBalancer lb = builder().endpoints(TestPools.uniform(1)).build();
    lb.close();
    assertThatThrownBy(() -> lb.switchStrategy(Strategies.RANDOM).join())
        .cause()
        .isInstanceOf(StrategySwitchRejectedException.class)
        .hasMessageContaining("closed");
  }

  private static Lease acquireOn(LoadBalancer lb, String id) {
    for (int i = 0; i < 1_000; i++) {
      Lease lease = lb.acquire(RequestContext.none());
      if (lease.endpoint().id().equals(id)) {
        return lease;
      }
      lease.close();
    }
    throw new AssertionError("never picked " + id);
  }

  private static int inFlight(LoadBalancer lb, String id) {
    return lb.snapshot().endpoint(id).orElseThrow().inFlight();
  }

  private static NoEndpointAvailableException catchNoEndpoint(LoadBalancer lb) {
    try {
      lb.acquire(RequestContext.none());
    } catch (NoEndpointAvailableException e) {
      return e;
    }
    throw new AssertionError("expected NoEndpointAvailableException");
  }
}
