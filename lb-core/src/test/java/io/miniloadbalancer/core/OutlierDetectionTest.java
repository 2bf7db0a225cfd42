package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Passive health: ejection, backoff, the max ejected share, dry-run and the half-open trial. */
class OutlierDetectionTest {

  private final FakeTime time = new FakeTime();

  private LoadBalancer balancer(int endpoints, OutlierDetection od) {
    return LoadBalancer.builder()
        .name("od")
        .endpoints(TestPools.uniform(endpoints))
        .ticker(time)
        .scheduler(time)
        .randomSource(TestPools.seeded(5))
        .outlierDetection(od)
        .panicThreshold(0)
        .build();
  }

  private static OutlierDetection.Builder noJitter() {
    return OutlierDetection.builder().ejectionJitter(0);
  }

  @Test
  void fiveConsecutiveFailuresEjectAndTheBackoffGrowsThenCaps() {
    LoadBalancer lb = balancer(10, noJitter().trialRequests(1).build());
    long[] expectedSeconds = {30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300};
    failOn(lb, "e0", 4);
    assertThat(snap(lb, "e0").state()).isEqualTo(EndpointState.HEALTHY);
    failOn(lb, "e0", 1);
    for (int k = 0; k < expectedSeconds.length; k++) {
      long expected = expectedSeconds[k];
      EndpointSnapshot e0 = snap(lb, "e0");
      assertThat(e0.state()).isEqualTo(EndpointState.EJECTED);
      assertThat(e0.breaker()).isEqualTo(BreakerState.OPEN);
      assertThat(e0.ejections()).isEqualTo(k + 1);
      assertThat(e0.ejectionRemainingMillis()).as("ejection #%d", k + 1).isEqualTo(expected * 1000);
      assertThat(e0.lastTransition().reason())
          .contains(k == 0 ? "5 consecutive failures" : "trial request failed");
      time.advance(Duration.ofSeconds(expected - 1));
      assertThat(snap(lb, "e0").state()).isEqualTo(EndpointState.EJECTED);
      time.advance(Duration.ofSeconds(1));
      assertThat(snap(lb, "e0").state()).isEqualTo(EndpointState.HEALTHY);
      assertThat(snap(lb, "e0").breaker()).isEqualTo(BreakerState.HALF_OPEN);
      failOn(lb, "e0", 1); // the trial fails: ejected again, for longer
    }
  }

  @Test
  void maxEjectedShareHoldsWhenEveryEndpointFails() {
    LoadBalancer lb = balancer(10, noJitter().build());
    for (int round = 0; round < 10; round++) {
      for (int i = 0; i < 10; i++) {
        failOn(lb, "e" + i, 5);
      }
    }
    long ejected =
        lb.snapshot().endpoints().stream().filter(e -> e.state() == EndpointState.EJECTED).count();
    assertThat(ejected).as("10% of 10").isEqualTo(1);
    assertThat(lb.snapshot().recentEvents())
        .extracting(PoolEvent::kind)
        .contains(PoolEvent.Kind.EJECTION_SKIPPED);
    assertThat(
            lb.snapshot().recentEvents().stream()
                .filter(e -> e.kind() == PoolEvent.Kind.EJECTION_SKIPPED)
                .findFirst()
                .orElseThrow()
                .reason())
        .contains("1 of 10 already ejected");
  }

  @Test
  void poolsOfTwoMayEjectOneAndPoolsOfOneNone() {
    LoadBalancer two = balancer(2, noJitter().build());
    failOn(two, "e0", 5);
    failOn(two, "e1", 5);
    assertThat(snap(two, "e0").state()).isEqualTo(EndpointState.EJECTED);
    assertThat(snap(two, "e1").state()).isEqualTo(EndpointState.HEALTHY);

    LoadBalancer one = balancer(1, noJitter().build());
    failOn(one, "e0", 20);
    assertThat(snap(one, "e0").state()).isEqualTo(EndpointState.HEALTHY);
  }

  @Test
  void dryRunEjectsNoneAndRecordsAll() {
    LoadBalancer lb = balancer(10, noJitter().dryRun(true).build());
    for (int i = 0; i < 10; i++) {
      failOn(lb, "e" + i, 5);
    }
    assertThat(lb.snapshot().endpoints()).allMatch(e -> e.state() == EndpointState.HEALTHY);
    List<PoolEvent> dry =
        lb.snapshot().recentEvents().stream()
            .filter(e -> e.kind() == PoolEvent.Kind.EJECTION_DRY_RUN)
            .toList();
    assertThat(dry)
        .extracting(PoolEvent::endpointId)
        .containsExactlyInAnyOrder("e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9");
    assertThat(dry.get(0).reason()).contains("would eject: 5 consecutive failures");
  }

  @Test
  void halfOpenLetsABoundedTrialThroughThenClosesOnSuccess() {
    LoadBalancer lb = balancer(10, noJitter().trialRequests(3).build());
    failOn(lb, "e0", 5);
    time.advance(Duration.ofSeconds(30));
    assertThat(snap(lb, "e0").breaker()).isEqualTo(BreakerState.HALF_OPEN);
    // Take every lease we can on e0 without completing: the gate admits exactly 3.
    List<Lease> held = new java.util.ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      Lease lease = lb.acquire(RequestContext.none());
      if (lease.endpoint().id().equals("e0")) {
        held.add(lease);
      } else {
        lease.success();
      }
    }
    assertThat(held).hasSize(3);
    held.forEach(Lease::success);
    time.runDue();
    assertThat(snap(lb, "e0").breaker()).isEqualTo(BreakerState.CLOSED);
    assertThat(lb.snapshot().recentEvents())
        .extracting(PoolEvent::kind)
        .contains(PoolEvent.Kind.BREAKER_CLOSED);
  }

  @Test
  void aFailedTrialEjectsAgainForLonger() {
    LoadBalancer lb = balancer(10, noJitter().trialRequests(3).build());
    failOn(lb, "e0", 5);
    time.advance(Duration.ofSeconds(30));
    failOn(lb, "e0", 1);
    EndpointSnapshot e0 = snap(lb, "e0");
    assertThat(e0.state()).isEqualTo(EndpointState.EJECTED);
    assertThat(e0.ejections()).isEqualTo(2);
    assertThat(e0.ejectionRemainingMillis()).isEqualTo(60_000);
  }

  @Test
  void failureRateOverTheIntervalEjects() {
    LoadBalancer lb =
        balancer(10, noJitter().consecutiveFailures(0).failureRate(0.5).minRequests(20).build());
    // e0: 12 failures and 10 successes, interleaved so no streak matters.
    for (int i = 0; i < 10; i++) {
      failOn(lb, "e0", 1);
      succeedOn(lb, "e0");
    }
    failOn(lb, "e0", 2);
    time.advance(Duration.ofSeconds(10));
    EndpointSnapshot e0 = snap(lb, "e0");
    assertThat(e0.state()).isEqualTo(EndpointState.EJECTED);
    assertThat(e0.lastTransition().reason())
        .contains("failure rate 55% over the last 10 s", "(12 of 22)");
  }

  @Test
  void theFailureRateWindowSlidesInsteadOfRestartingEachInterval() {
    LoadBalancer lb =
        balancer(10, noJitter().consecutiveFailures(0).failureRate(0.5).minRequests(20).build());
    // 12 requests just before t = 10 s and 10 just after: a tumbling 10 s window would see 12
    // and
    // then 10, both under the minimum of 20, and never judge; the sliding one sees all 22.
    time.advance(Duration.ofSeconds(8));
    for (int i = 0; i < 6; i++) {
      failOn(lb, "e0", 1);
      succeedOn(lb, "e0");
    }
    time.advance(Duration.ofSeconds(3)); // t = 11 s
    assertThat(snap(lb, "e0").state()).isEqualTo(EndpointState.HEALTHY);
    for (int i = 0; i < 4; i++) {
      failOn(lb, "e0", 1);
      succeedOn(lb, "e0");
    }
    failOn(lb, "e0", 2);
    time.advance(Duration.ofSeconds(1)); // t = 12 s: the next step of the window
    EndpointSnapshot e0 = snap(lb, "e0");
    assertThat(e0.state()).isEqualTo(EndpointState.EJECTED);
    assertThat(e0.lastTransition().reason())
        .contains("failure rate 55% over the last 10 s", "(12 of 22)");
  }

  @Test
  void ejectedEndpointsGetNoTraffic() {
    LoadBalancer lb = balancer(4, noJitter().build());
    failOn(lb, "e2", 5);
    for (int i = 0; i < 1_000; i++) {
      try (Lease lease = lb.acquire(RequestContext.none())) {
        assertThat(lease.endpoint().id()).isNotEqualTo("e2");
      }
    }
  }

  @Test
  void trialLeasesThatGiveNoVerdictHandTheirPermitBack() {
    LoadBalancer lb = balancer(10, noJitter().trialRequests(2).build());
    Lease before = RoutingFloorsTest.holdOn(lb, "e0", 1).get(0); // an ordinary lease, pre-ejection
    failOn(lb, "e0", 5);
    time.advance(Duration.ofSeconds(30));
    assertThat(snap(lb, "e0").breaker()).isEqualTo(BreakerState.HALF_OPEN);
    before.close(); // not a trial lease: must not add a permit
    List<Lease> trials = RoutingFloorsTest.holdOn(lb, "e0", 5);
    assertThat(trials).hasSize(2);
    trials.get(0).overloaded(Duration.ofSeconds(1)); // no verdict: permit back
    trials.get(1).close(); // no verdict: permit back
    time.runDue();
    assertThat(snap(lb, "e0").breaker()).isEqualTo(BreakerState.HALF_OPEN);
    time.advance(Duration.ofSeconds(2)); // the 429 penalty ends
    List<Lease> again = RoutingFloorsTest.holdOn(lb, "e0", 5);
    assertThat(again).hasSize(2);
    again.forEach(Lease::success);
    time.runDue();
    assertThat(snap(lb, "e0").breaker()).isEqualTo(BreakerState.CLOSED);
  }

  @Test
  void aHalfOpenEndpointThatLeavesAndReturnsGetsAFreshTrial() {
    LoadBalancer lb = balancer(10, noJitter().trialRequests(2).build());
    failOn(lb, "e0", 5);
    time.advance(Duration.ofSeconds(30));
    List<Lease> trials = RoutingFloorsTest.holdOn(lb, "e0", 2);
    lb.drain("e0", Duration.ofSeconds(1));
    trials.forEach(Lease::close);
    lb.undrain("e0").join();
    time.runDue();
    assertThat(RoutingFloorsTest.holdOn(lb, "e0", 5)).hasSize(2);
  }

  static void failOnNow(LoadBalancer lb, String id, int times) {
    int done = 0;
    for (int i = 0; i < 100_000 && done < times; i++) {
      Lease lease = lb.acquire(RequestContext.none());
      if (lease.endpoint().id().equals(id)) {
        lease.failure();
        done++;
      } else {
        lease.close();
      }
    }
  }

  static void succeedOnNow(LoadBalancer lb, String id) {
    for (int i = 0; i < 100_000; i++) {
      Lease lease = lb.acquire(RequestContext.none());
      if (lease.endpoint().id().equals(id)) {
        lease.success();
        return;
      }
      lease.close();
    }
  }

  /** Fails {@code times} requests on {@code id}, then lets the data-path signals run. */
  private void failOn(LoadBalancer lb, String id, int times) {
    failOnNow(lb, id, times);
    time.runDue();
  }

  private void succeedOn(LoadBalancer lb, String id) {
    succeedOnNow(lb, id);
    time.runDue();
  }

  static EndpointSnapshot snap(LoadBalancer lb, String id) {
    return lb.snapshot().endpoint(id).orElseThrow();
  }
}
