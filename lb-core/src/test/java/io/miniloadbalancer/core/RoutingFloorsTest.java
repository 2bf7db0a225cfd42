package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Panic, drain, slow start, Retry-After penalties and zone preference. */
class RoutingFloorsTest {

  private final FakeTime time = new FakeTime();
  private final ScriptedProbe probe = new ScriptedProbe();

  private LoadBalancerBuilder builder(List<Endpoint> endpoints) {
    return LoadBalancer.builder()
        .name("floors")
        .endpoints(endpoints)
        .ticker(time)
        .scheduler(time)
        .randomSource(TestPools.seeded(17));
  }

  @Test
  void threeOfFourDownSpreadsOverAllFourAndReportsPanic() {
    probe.down("e1").down("e2").down("e3");
    LoadBalancer lb =
        builder(TestPools.uniform(4))
            .healthCheck(HealthCheck.builder(probe).jitter(0).build())
            .build();
    time.advance(Duration.ofSeconds(10));
    BalancerSnapshot s = lb.snapshot();
    assertThat(s.endpoints()).filteredOn(e -> e.state() == EndpointState.UNHEALTHY).hasSize(3);
    assertThat(s.panic()).isTrue();
    assertThat(s.recentEvents()).extracting(PoolEvent::kind).contains(PoolEvent.Kind.PANIC_ENTERED);
    Map<String, Integer> counts = picks(lb, 4_000, RequestContext.none());
    assertThat(counts.keySet()).containsExactlyInAnyOrder("e0", "e1", "e2", "e3");

    probe.up("e1").up("e2");
    time.advance(Duration.ofSeconds(10));
    assertThat(lb.snapshot().panic()).isFalse();
    assertThat(lb.snapshot().recentEvents())
        .extracting(PoolEvent::kind)
        .contains(PoolEvent.Kind.PANIC_EXITED);
    assertThat(picks(lb, 1_000, RequestContext.none())).doesNotContainKey("e3");
  }

  @Test
  void panicNeverIncludesDrainedOrMaintainedEndpoints() {
    probe.down("e1").down("e2");
    LoadBalancer lb =
        builder(TestPools.uniform(4))
            .healthCheck(HealthCheck.builder(probe).jitter(0).build())
            .build();
    lb.maintenance("e3", true, "test").join();
    time.advance(Duration.ofSeconds(10));
    assertThat(lb.snapshot().panic()).isTrue();
    assertThat(picks(lb, 2_000, RequestContext.none()).keySet())
        .containsExactlyInAnyOrder("e0", "e1", "e2");
  }

  @Test
  void drainCompletesWhenInFlightReachesZeroAndTakesNoPicksMeanwhile() {
    LoadBalancer lb = builder(TestPools.uniform(3)).build();
    List<Lease> onE0 = holdOn(lb, "e0", 2);
    CompletableFuture<DrainResult> drained = lb.drain("e0", Duration.ofSeconds(30));
    assertThat(drained).isNotDone();
    assertThat(HealthCheckTest.state(lb, "e0")).isEqualTo(EndpointState.DRAINING);
    assertThat(picks(lb, 1_000, RequestContext.none())).doesNotContainKey("e0");
    onE0.get(0).success();
    time.runDue();
    assertThat(drained).isNotDone();
    time.advance(Duration.ofSeconds(3));
    onE0.get(1).failure();
    time.runDue();
    DrainResult result = drained.join();
    assertThat(result.completed()).isTrue();
    assertThat(result.stillInFlight()).isZero();
    assertThat(result.waited()).isEqualTo(Duration.ofSeconds(3));
    assertThat(HealthCheckTest.state(lb, "e0")).isEqualTo(EndpointState.DRAINING);

    lb.undrain("e0").join();
    assertThat(HealthCheckTest.state(lb, "e0")).isEqualTo(EndpointState.HEALTHY);
    assertThat(picks(lb, 1_000, RequestContext.none())).containsKey("e0");
  }

  @Test
  void drainTimesOutAndSaysHowManyWereOpen() {
    LoadBalancer lb = builder(TestPools.uniform(2)).build();
    holdOn(lb, "e1", 3);
    CompletableFuture<DrainResult> drained = lb.drain("e1", Duration.ofSeconds(20));
    time.advance(Duration.ofSeconds(19));
    assertThat(drained).isNotDone();
    time.advance(Duration.ofSeconds(1));
    DrainResult result = drained.join();
    assertThat(result.completed()).isFalse();
    assertThat(result.stillInFlight()).isEqualTo(3);
  }

  @Test
  void drainedHashKeysMoveAndComeBack() {
    LoadBalancer lb = builder(TestPools.uniform(5)).strategy(Strategies.RING_HASH).build();
    Map<String, String> home = new HashMap<>();
    for (int i = 0; i < 500; i++) {
      home.put("k" + i, pick(lb, RequestContext.ofKey("k" + i)));
    }
    lb.drain("e2", Duration.ofSeconds(1)).join();
    for (Map.Entry<String, String> e : home.entrySet()) {
      String now = pick(lb, RequestContext.ofKey(e.getKey()));
      assertThat(now).isNotEqualTo("e2");
      if (!e.getValue().equals("e2")) {
        assertThat(now).as("keys of other endpoints stay").isEqualTo(e.getValue());
      }
    }
    lb.undrain("e2").join();
    for (Map.Entry<String, String> e : home.entrySet()) {
      assertThat(pick(lb, RequestContext.ofKey(e.getKey()))).isEqualTo(e.getValue());
    }
  }

  @Test
  void slowStartShareGrowsAlongTheCurve() {
    StaticEndpointSource source = new StaticEndpointSource(TestPools.uniform(3));
    LoadBalancer lb =
        LoadBalancer.builder()
            .source(source)
            .ticker(time)
            .scheduler(time)
            .randomSource(TestPools.seeded(2))
            .strategy(Strategies.RANDOM)
            .slowStart(SlowStart.linear(Duration.ofSeconds(100)))
            .build();
    source.add(Endpoint.of("new", "127.0.0.1", 7000));
    double[] checkpoints = {0.0, 0.25, 0.5, 0.75, 1.0};
    double previous = 0;
    for (int i = 0; i < checkpoints.length; i++) {
      double t = checkpoints[i];
      double factor = Math.max(0.1, t);
      double expectedShare = factor / (3 + factor);
      double share = picks(lb, 40_000, RequestContext.none()).getOrDefault("new", 0) / 40_000.0;
      assertThat(share)
          .as("share at t=%.2f", t)
          .isCloseTo(expectedShare, org.assertj.core.data.Offset.offset(0.02));
      assertThat(lb.snapshot().endpoint("new").orElseThrow().slowStartFactor())
          .isCloseTo(factor, org.assertj.core.data.Offset.offset(0.01));
      assertThat(share).isGreaterThanOrEqualTo(previous - 0.01);
      previous = share;
      if (i + 1 < checkpoints.length) {
        time.advance(Duration.ofSeconds(25));
      }
    }
    time.advance(Duration.ofSeconds(5));
    assertThat(lb.snapshot().recentEvents())
        .extracting(PoolEvent::kind)
        .contains(PoolEvent.Kind.SLOW_START_DONE);
  }

  @Test
  void slowStartOnAHashStrategyTakesAGrowingNestedShareOfItsKeysAndMovesNoOtherKey() {
    StaticEndpointSource source = new StaticEndpointSource(TestPools.uniform(4));
    LoadBalancer lb =
        LoadBalancer.builder()
            .source(source)
            .ticker(time)
            .scheduler(time)
            .strategy(Strategies.RING_HASH)
            .slowStart(SlowStart.linear(Duration.ofSeconds(100)))
            .build();
    Map<String, String> before = new HashMap<>();
    for (int i = 0; i < 4_000; i++) {
      before.put("k" + i, pick(lb, RequestContext.ofKey("k" + i)));
    }
    source.add(Endpoint.of("new", "127.0.0.1", 7000));
    Set<String> taken = new HashSet<>();
    int[] takenAt = new int[4];
    for (int step = 0; step < 4; step++) {
      Set<String> now = new HashSet<>();
      for (Map.Entry<String, String> e : before.entrySet()) {
        String id = pick(lb, RequestContext.ofKey(e.getKey()));
        if (id.equals("new")) {
          now.add(e.getKey());
        } else {
          assertThat(id)
              .as("a key that did not move to the new endpoint stays home")
              .isEqualTo(e.getValue());
        }
      }
      assertThat(now).as("nested: keys taken earlier stay taken").containsAll(taken);
      taken = now;
      takenAt[step] = now.size();
      time.advance(Duration.ofSeconds(34));
    }
    // The full share is about 1/5 of 4,000 keys; at 10% of the ramp about 1/10 of that.
    assertThat(takenAt[0]).isBetween(40, 130);
    assertThat(takenAt[3]).isBetween(650, 950);
    assertThat(takenAt[0]).isLessThan(takenAt[1]);
    assertThat(takenAt[1]).isLessThan(takenAt[2]);
  }

  @Test
  void retryAfterPenaltySkipsTheEndpointForItsDurationWithoutEjecting() {
    LoadBalancer lb = builder(TestPools.uniform(3)).build();
    Lease lease = holdOn(lb, "e0", 1).get(0);
    lease.overloaded(Duration.ofSeconds(5));
    time.runDue();
    EndpointSnapshot e0 = lb.snapshot().endpoint("e0").orElseThrow();
    assertThat(e0.state()).isEqualTo(EndpointState.HEALTHY);
    assertThat(e0.penaltyRemainingMillis()).isEqualTo(5_000);
    assertThat(e0.overloaded()).isEqualTo(1);
    assertThat(picks(lb, 1_000, RequestContext.none())).doesNotContainKey("e0");
    time.advance(Duration.ofSeconds(5));
    assertThat(picks(lb, 1_000, RequestContext.none())).containsKey("e0");
  }

  @Test
  void retryAfterIsCappedAndPricedInByPeakEwma() {
    LoadBalancer lb =
        builder(TestPools.uniform(3))
            .strategy(Strategies.P2C_EWMA)
            .maxPenalty(Duration.ofSeconds(10))
            .build();
    holdOn(lb, "e0", 1).get(0).overloaded(Duration.ofHours(1));
    time.runDue();
    assertThat(lb.snapshot().endpoint("e0").orElseThrow().penaltyRemainingMillis())
        .isEqualTo(10_000);
    Map<String, Integer> counts = picks(lb, 3_000, RequestContext.none());
    assertThat(counts.getOrDefault("e0", 0)).as("only when both p2c draws are e0").isLessThan(60);
  }

  @Test
  void localZoneIsPreferredWhileHealthyEnoughThenSpillsOver() {
    List<Endpoint> endpoints =
        List.of(
            Endpoint.of("a1", "127.0.0.1", 1).withZone("a"),
            Endpoint.of("a2", "127.0.0.1", 2).withZone("a"),
            Endpoint.of("a3", "127.0.0.1", 3).withZone("a"),
            Endpoint.of("b1", "127.0.0.1", 4).withZone("b"),
            Endpoint.of("b2", "127.0.0.1", 5).withZone("b"));
    LoadBalancer lb = builder(endpoints).localZone("a", 70).build();
    assertThat(picks(lb, 2_000, RequestContext.none()).keySet())
        .containsExactlyInAnyOrder("a1", "a2", "a3");
    assertThat(lb.snapshot().zoneMode()).startsWith("local zone a: 3/3");

    lb.drain("a1", Duration.ofSeconds(1)).join(); // drained: not counted against the zone
    assertThat(picks(lb, 2_000, RequestContext.none()).keySet())
        .containsExactlyInAnyOrder("a2", "a3");
    lb.maintenance("a2", true, "test").join();
    assertThat(picks(lb, 2_000, RequestContext.none()).keySet()).containsExactlyInAnyOrder("a3");

    LoadBalancer lb2 =
        builder(endpoints)
            .localZone("a", 70)
            .outlierDetection(
                OutlierDetection.builder().maxEjectionPercent(50).ejectionJitter(0).build())
            .build();
    OutlierDetectionTest.failOnNow(lb2, "a1", 5); // 2 of 3 routable in a: 67% < 70%
    time.runDue();
    assertThat(lb2.snapshot().zoneMode()).startsWith("all zones: 2/3");
    assertThat(picks(lb2, 3_000, RequestContext.none()).keySet())
        .containsExactlyInAnyOrder("a2", "a3", "b1", "b2");
    assertThat(lb2.snapshot().recentEvents())
        .extracting(PoolEvent::kind)
        .contains(PoolEvent.Kind.ZONE_SPILLOVER);
  }

  static Map<String, Integer> picks(LoadBalancer lb, int n, RequestContext context) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      try (Lease lease = lb.acquire(context)) {
        counts.merge(lease.endpoint().id(), 1, Integer::sum);
        lease.success();
      }
    }
    return counts;
  }

  static String pick(LoadBalancer lb, RequestContext context) {
    try (Lease lease = lb.acquire(context)) {
      return lease.endpoint().id();
    }
  }

  static List<Lease> holdOn(LoadBalancer lb, String id, int n) {
    List<Lease> held = new ArrayList<>();
    for (int i = 0; i < 100_000 && held.size() < n; i++) {
      Lease lease = lb.acquire(RequestContext.none());
      if (lease.endpoint().id().equals(id)) {
        held.add(lease);
      } else {
        lease.close();
      }
    }
    return held;
  }
}
