package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * The product's first guarantee as a property: across random sequences of probe failures, request
 * failures, drains, maintenance, removals, re-adds, strategy switches and the passage of time, no
 * pick outside panic returns an endpoint that is UNHEALTHY, EJECTED, DRAINING or MAINT.
 */
class OnlyHealthyReceiveTrafficTest {

  private static final Set<EndpointState> NOT_ROUTABLE =
      EnumSet.of(
          EndpointState.UNHEALTHY,
          EndpointState.EJECTED,
          EndpointState.DRAINING,
          EndpointState.MAINT,
          EndpointState.REMOVED);

  enum Op {
    PROBE_DOWN,
    PROBE_UP,
    FAIL_REQUESTS,
    DRAIN,
    UNDRAIN,
    MAINT_ON,
    MAINT_OFF,
    REMOVE,
    READD,
    SWITCH,
    OVERLOAD,
    HOLD_LEASE,
    RELEASE_LEASES,
    TIME
  }

  record Step(Op op, int endpoint, int amount) {}

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<Step> step =
        net.jqwik.api.Combinators.combine(
                Arbitraries.of(Op.class),
                Arbitraries.integers().between(0, 5),
                Arbitraries.integers().between(1, 40))
            .as(Step::new);
    return step.list().ofMinSize(5).ofMaxSize(60);
  }

  @Property(tries = 150)
  void noPickOutsidePanicReturnsAnEndpointThatMayNotTakeTraffic(
      @ForAll("steps") @Size(max = 60) List<Step> steps) {
    FakeTime time = new FakeTime();
    ScriptedProbe probe = new ScriptedProbe();
    StaticEndpointSource source = new StaticEndpointSource(TestPools.uniform(6));
    List<Endpoint> all = TestPools.uniform(6);
    LoadBalancer lb =
        LoadBalancer.builder()
            .source(source)
            .ticker(time)
            .scheduler(time)
            .randomSource(TestPools.seeded(steps.size()))
            .minSwitchInterval(Duration.ZERO)
            .healthCheck(HealthCheck.builder(probe).jitter(0).build())
            .outlierDetection(OutlierDetection.builder().maxEjectionPercent(50).build())
            .slowStart(SlowStart.linear(Duration.ofSeconds(20)))
            .build();
    List<Lease> held = new ArrayList<>();
    int switches = 0;
    for (Step s : steps) {
      String id = "e" + s.endpoint();
      switch (s.op()) {
        case PROBE_DOWN -> probe.down(id);
        case PROBE_UP -> probe.up(id);
        case FAIL_REQUESTS -> {
          for (int i = 0; i < s.amount(); i++) {
            Lease lease = pickChecked(lb);
            if (lease != null) {
              lease.failure();
            }
          }
        }
        case DRAIN -> lb.drain(id, Duration.ofSeconds(s.amount())).exceptionally(e -> null);
        case UNDRAIN -> lb.undrain(id).exceptionally(e -> null);
        case MAINT_ON -> lb.maintenance(id, true, "prop").exceptionally(e -> null);
        case MAINT_OFF -> lb.maintenance(id, false, "prop").exceptionally(e -> null);
        case REMOVE -> source.remove(id);
        case READD -> {
          if (source.endpoints().stream().noneMatch(e -> e.id().equals(id))) {
            source.add(all.get(s.endpoint()));
          }
        }
        case SWITCH -> {
          List<String> names = Strategies.names();
          lb.switchStrategy(names.get((switches++ + s.amount()) % names.size())).join();
        }
        case OVERLOAD -> {
          Lease lease = pickChecked(lb);
          if (lease != null) {
            lease.overloaded(Duration.ofSeconds(s.amount()));
          }
        }
        case HOLD_LEASE -> {
          Lease lease = pickChecked(lb);
          if (lease != null) {
            held.add(lease);
          }
        }
        case RELEASE_LEASES -> {
          held.forEach(Lease::success);
          held.clear();
        }
        case TIME -> time.advance(Duration.ofMillis(500L * s.amount()));
        default -> throw new AssertionError(s.op());
      }
      time.runDue();
      for (int i = 0; i < 20; i++) {
        Lease lease = pickChecked(lb);
        if (lease != null) {
          lease.success();
        }
      }
    }
    held.forEach(Lease::success);
    assertThat(lb.snapshot().totalInFlight()).isZero();
  }

  private int picks;

  /** Picks and checks the guarantee; null only when the pool legitimately has nothing to offer. */
  private Lease pickChecked(LoadBalancer lb) {
    Lease lease;
    try {
      lease = lb.acquire(RequestContext.ofKey("k" + (picks++ % 97)));
    } catch (NoEndpointAvailableException e) {
      // Refusing is only right when no endpoint in the table could take it (a half-open
      // endpoint
      // with its trial full may refuse; a closed, healthy, routable one may not).
      assertThat(lb.snapshot().endpoints())
          .as("acquire failed while a healthy, closed, routable endpoint existed")
          .noneMatch(
              snap ->
                  snap.routable()
                      && snap.state() == EndpointState.HEALTHY
                      && snap.breaker() == BreakerState.CLOSED);
      return null;
    }
    BalancerSnapshot s = lb.snapshot();
    EndpointState state =
        s.endpoint(lease.endpoint().id())
            .map(EndpointSnapshot::state)
            .orElse(EndpointState.REMOVED);
    if (!s.panic()) {
      assertThat(NOT_ROUTABLE)
          .as("picked %s in state %s outside panic", lease.endpoint().id(), state)
          .doesNotContain(state);
    } else {
      assertThat(state)
          .as("even in panic, drained and maintained endpoints get nothing")
          .isNotIn(EndpointState.DRAINING, EndpointState.MAINT, EndpointState.REMOVED);
    }
    return lease;
  }
}
