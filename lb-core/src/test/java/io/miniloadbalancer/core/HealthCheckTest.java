package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Active checks with hysteresis, driven by fake time and a scripted probe. */
class HealthCheckTest {

  private final FakeTime time = new FakeTime();
  private final ScriptedProbe probe = new ScriptedProbe();

  private LoadBalancer balancer(HealthCheck check, int endpoints) {
    return LoadBalancer.builder()
        .name("hc")
        .endpoints(TestPools.uniform(endpoints))
        .ticker(time)
        .scheduler(time)
        .randomSource(TestPools.seeded(11))
        .healthCheck(check)
        .panicThreshold(0)
        .build();
  }

  private static HealthCheck.Builder check() {
    return HealthCheck.builder(new ScriptedProbe()).jitter(0);
  }

  @Test
  void alternatingProbesNeverMoveAnEndpointWithRise2Fall3() {
    probe.script("e0", n -> n % 2 == 0);
    LoadBalancer lb = balancer(HealthCheck.builder(probe).jitter(0).build(), 2);
    List<Transition> transitions = new ArrayList<>();
    lb.addListener(
        new io.miniloadbalancer.core.spi.BalancerListener() {
          @Override
          public void onTransition(Transition t) {
            transitions.add(t);
          }
        });
    time.advance(Duration.ofMinutes(5));
    assertThat(probe.probes("e0")).isGreaterThan(100);
    assertThat(transitions).isEmpty();
    assertThat(state(lb, "e0")).isEqualTo(EndpointState.HEALTHY);
  }

  @Test
  void threeFailuresTakeItDownAndTwoPassesBringItBack() {
    // Probes: 3 passes, 3 failures, then passes.
    probe.script("e0", n -> n < 3 || n >= 6);
    LoadBalancer lb = balancer(HealthCheck.builder(probe).jitter(0).build(), 2);
    time.advance(Duration.ofSeconds(2 * 5)); // probes #0..#4 (the first is at t in [0, 2 s))
    assertThat(probe.probes("e0")).isBetween(5, 6);
    if (probe.probes("e0") < 6) {
      assertThat(state(lb, "e0")).isEqualTo(EndpointState.HEALTHY);
      time.advance(Duration.ofSeconds(2));
    }
    assertThat(state(lb, "e0")).isEqualTo(EndpointState.UNHEALTHY);
    assertThat(lb.snapshot().endpoint("e0").orElseThrow().lastTransition().reason())
        .contains("3 failed probes", "scripted fail #5");
    for (int i = 0; i < 100; i++) {
      try (Lease lease = lb.acquire(RequestContext.none())) {
        assertThat(lease.endpoint().id()).isEqualTo("e1");
      }
    }
    time.advance(Duration.ofSeconds(2)); // #6 passes
    assertThat(state(lb, "e0")).isEqualTo(EndpointState.UNHEALTHY);
    time.advance(Duration.ofSeconds(2)); // #7 passes: rise 2
    assertThat(state(lb, "e0")).isEqualTo(EndpointState.HEALTHY);
    assertThat(lb.snapshot().endpoint("e0").orElseThrow().lastTransition().reason())
        .contains("2 passing probes");
  }

  @Test
  void probeIntervalsFollowTheState() {
    probe.down("e0");
    LoadBalancer lb =
        balancer(
            HealthCheck.builder(probe)
                .jitter(0)
                .interval(Duration.ofSeconds(10))
                .fastInterval(Duration.ofSeconds(1))
                .downInterval(Duration.ofSeconds(30))
                .build(),
            1);
    // The first probe comes at a random point of the first interval, to spread a fleet's
    // probes.
    for (int i = 0; i < 100 && probe.probes("e0") == 0; i++) {
      time.advance(Duration.ofMillis(100));
    }
    assertThat(probe.probes("e0")).isEqualTo(1);
    time.advance(Duration.ofSeconds(1)); // fastinter while the fall is pending
    assertThat(probe.probes("e0")).isEqualTo(2);
    time.advance(Duration.ofSeconds(1));
    assertThat(probe.probes("e0")).isEqualTo(3);
    assertThat(state(lb, "e0")).isEqualTo(EndpointState.UNHEALTHY);
    time.advance(Duration.ofSeconds(29));
    assertThat(probe.probes("e0")).as("downinter: nothing for 30 s").isEqualTo(3);
    time.advance(Duration.ofSeconds(1));
    assertThat(probe.probes("e0")).isEqualTo(4);
  }

  @Test
  void newEndpointsCanWaitForTheirFirstPassingProbes() {
    StaticEndpointSource source = new StaticEndpointSource(TestPools.uniform(1));
    LoadBalancer lb =
        LoadBalancer.builder()
            .source(source)
            .ticker(time)
            .scheduler(time)
            .panicThreshold(0)
            .healthCheck(
                HealthCheck.builder(probe).jitter(0).newEndpointsWaitForProbe(true).build())
            .build();
    source.add(Endpoint.of("late", "127.0.0.1", 9));
    assertThat(state(lb, "late")).isEqualTo(EndpointState.UNHEALTHY);
    assertThat(lb.snapshot().endpoint("late").orElseThrow().lastTransition().reason())
        .contains("waiting for 2 passing probes");
    time.advance(Duration.ofSeconds(6));
    assertThat(state(lb, "late")).isEqualTo(EndpointState.HEALTHY);
  }

  @Test
  void maintenanceIsNotProbedAndComesBackThroughTheChecks() {
    LoadBalancer lb = balancer(HealthCheck.builder(probe).jitter(0).build(), 2);
    lb.maintenance("e0", true, "operator").join();
    assertThat(state(lb, "e0")).isEqualTo(EndpointState.MAINT);
    int before = probe.probes("e0");
    probe.down("e0");
    time.advance(Duration.ofSeconds(60));
    assertThat(probe.probes("e0")).as("no probes in maintenance").isEqualTo(before);
    assertThat(state(lb, "e0")).isEqualTo(EndpointState.MAINT);

    probe.up("e0");
    lb.maintenance("e0", false, "operator").join();
    assertThat(state(lb, "e0")).isEqualTo(EndpointState.UNHEALTHY);
    time.advance(Duration.ofSeconds(3));
    assertThat(state(lb, "e0")).isEqualTo(EndpointState.HEALTHY);
  }

  @Test
  void unknownEndpointsAreRefusedByNameForEveryOperatorCall() {
    LoadBalancer lb = balancer(check().build(), 1);
    assertThat(lb.drain("nope", Duration.ofSeconds(1))).isCompletedExceptionally();
    assertThat(lb.undrain("nope")).isCompletedExceptionally();
    assertThat(lb.maintenance("nope", true, "x")).isCompletedExceptionally();
    assertThat(lb.maintenance("nope", true, "x").handle((v, e) -> e.getMessage()).join())
        .isEqualTo("no endpoint 'nope' in pool 'hc'");
  }

  static EndpointState state(LoadBalancer lb, String id) {
    return lb.snapshot().endpoint(id).orElseThrow().state();
  }
}
