package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.core.spi.EndpointSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a registry says (critical, maintenance) combined with the balancer's own view. */
class SourceHealthTest {

  private final FakeTime time = new FakeTime();
  private final List<EndpointSource.Listener> sink = new ArrayList<>();

  private LoadBalancerBuilder builder() {
    return builder(0);
  }

  private LoadBalancerBuilder builder(int panicThreshold) {
    return LoadBalancer.builder()
        .name("registry")
        .source(sink::add)
        .ticker(time)
        .scheduler(time)
        .randomSource(TestPools.seeded(5))
        .panicThreshold(panicThreshold);
  }

  private void push(Map<String, SourceHealth> health) {
    sink.get(0).onEndpoints(TestPools.uniform(3), health);
    time.runDue();
  }

  private static Set<String> picked(LoadBalancer lb, int n) {
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < n; i++) {
      try (Lease lease = lb.acquire(RequestContext.none())) {
        ids.add(lease.endpoint().id());
        lease.success();
      }
    }
    return ids;
  }

  @Test
  void criticalIsUnhealthyAndKeptAndPassingBringsItBack() {
    LoadBalancer lb = builder().build();
    push(Map.of());
    assertThat(picked(lb, 60)).containsExactlyInAnyOrder("e0", "e1", "e2");

    push(Map.of("e1", SourceHealth.critical("ttl check: db down")));
    EndpointSnapshot e1 = lb.snapshot().endpoint("e1").orElseThrow();
    assertThat(e1.state()).isEqualTo(EndpointState.UNHEALTHY);
    assertThat(e1.lastTransition().cause()).isEqualTo(Transition.Cause.SOURCE);
    assertThat(e1.lastTransition().reason()).contains("ttl check: db down");
    assertThat(e1.successes()).as("counters kept: not removed and re-added").isPositive();
    assertThat(picked(lb, 60)).containsExactlyInAnyOrder("e0", "e2");

    push(Map.of());
    assertThat(lb.snapshot().endpoint("e1").orElseThrow().state()).isEqualTo(EndpointState.HEALTHY);
    assertThat(picked(lb, 60)).containsExactlyInAnyOrder("e0", "e1", "e2");
  }

  @Test
  void maintenanceDrainsInFlightAndTakesNoNewTraffic() {
    LoadBalancer lb = builder().build();
    push(Map.of());
    Lease held = null;
    while (held == null) {
      Lease l = lb.acquire(RequestContext.none());
      if (l.endpoint().id().equals("e2")) {
        held = l;
      } else {
        l.success();
      }
    }
    push(Map.of("e2", SourceHealth.maintenance("deploy")));
    assertThat(lb.snapshot().endpoint("e2").orElseThrow().state()).isEqualTo(EndpointState.MAINT);
    assertThat(lb.inFlight("e2")).isEqualTo(1);
    assertThat(picked(lb, 60)).containsExactlyInAnyOrder("e0", "e1");
    held.success();
    assertThat(lb.inFlight("e2")).isZero();
  }

  @Test
  void maintenanceAndCriticalTakeNoTrafficEvenInPanic() {
    LoadBalancer lb = builder(90).build();
    push(
        Map.of(
            "e0", SourceHealth.maintenance("deploy"),
            "e1", SourceHealth.critical("down")));
    assertThat(lb.isPanic()).isTrue();
    // Panic spreads over unhealthy endpoints (that is its point), never over maintenance.
    assertThat(picked(lb, 90)).doesNotContain("e0");
  }

  @Test
  void anEndpointAddedCriticalStartsUnhealthy() {
    LoadBalancer lb = builder().build();
    push(Map.of("e0", SourceHealth.critical("starting")));
    assertThat(lb.snapshot().endpoint("e0").orElseThrow().state())
        .isEqualTo(EndpointState.UNHEALTHY);
    assertThat(lb.snapshot().endpoint("e0").orElseThrow().lastTransition().reason())
        .contains("starting");
  }

  @Test
  void bothViewsMustAgree() {
    ScriptedProbe probe = new ScriptedProbe().down("e0");
    LoadBalancer lb = builder().healthCheck(HealthCheck.builder(probe).jitter(0).build()).build();
    push(Map.of());
    time.advance(Duration.ofSeconds(30));
    assertThat(lb.snapshot().endpoint("e0").orElseThrow().state())
        .as("probes say down, registry says passing")
        .isEqualTo(EndpointState.UNHEALTHY);
    probe.up("e0");
    push(Map.of("e0", SourceHealth.critical("registry says no")));
    time.advance(Duration.ofSeconds(30));
    assertThat(lb.snapshot().endpoint("e0").orElseThrow().state())
        .as("probes say up, registry says critical")
        .isEqualTo(EndpointState.UNHEALTHY);
    push(Map.of());
    assertThat(lb.snapshot().endpoint("e0").orElseThrow().state()).isEqualTo(EndpointState.HEALTHY);
  }

  @Test
  void theSnapshotCarriesTheSourcesView() {
    LoadBalancer lb =
        LoadBalancer.builder()
            .source(
                new EndpointSource() {
                  @Override
                  public void start(Listener listener) {
                    listener.onEndpoints(TestPools.uniform(1));
                  }

                  @Override
                  public SourceSnapshot snapshot() {
                    return new SourceSnapshot("registry x", Duration.ofSeconds(42), "unreachable");
                  }
                })
            .build();
    assertThat(lb.snapshot().source().staleness()).isEqualTo(Duration.ofSeconds(42));
    assertThat(lb.sourceSnapshot().problem()).isEqualTo("unreachable");
    assertThat(LoadBalancer.builder().endpoints(TestPools.uniform(1)).build().snapshot().source())
        .extracting(SourceSnapshot::staleness, SourceSnapshot::problem)
        .containsExactly(null, null);
  }
}
