package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, rule 1: a lease closed without an outcome carries how long it was open. p2c-ewma takes
 * it as a lower bound on the endpoint's latency and prices an endpoint with requests in flight and
 * no sample yet at a penalty; outlier detection counts a cancellation after the slow-request
 * threshold as a failure. Fake time throughout.
 */
class CancellationCarriesTimeTest {

  private static final long TICK_NANOS = Duration.ofMillis(5).toNanos();

  private final FakeTime time = new FakeTime();

  private LoadBalancerBuilder builder(int endpoints, String strategy) {
    return LoadBalancer.builder()
        .name("cancel")
        .endpoints(TestPools.uniform(endpoints))
        .ticker(time)
        .scheduler(time)
        .randomSource(TestPools.seeded(7))
        .strategy(strategy)
        .panicThreshold(0);
  }

  /**
   * The experiment in fake time: 16 closed-loop clients with a 1 s timeout, e0 answers in 2
   * s (so every request on it is cancelled after 1 s), the others in 20 ms. Returns the share of
   * requests that succeeded.
   */
  private double clientTimeoutRun(LoadBalancer lb, int clients, Duration length) {
    Lease[] leases = new Lease[clients];
    long[] due = new long[clients];
    long ok = 0;
    long total = 0;
    long end = time.read() + length.toNanos();
    while (time.read() < end) {
      long now = time.read();
      for (int c = 0; c < clients; c++) {
        Lease l = leases[c];
        if (l != null && due[c] <= now) {
          if (l.endpoint().id().equals("e0")) {
            l.close(); // the client timed out
          } else {
            l.success();
            ok++;
          }
          total++;
          leases[c] = null;
        }
        if (leases[c] == null) {
          Lease next = lb.acquire(RequestContext.none());
          leases[c] = next;
          due[c] =
              now
                  + (next.endpoint().id().equals("e0")
                      ? Duration.ofSeconds(1).toNanos()
                      : Duration.ofMillis(20).toNanos());
        }
      }
      time.advance(Duration.ofNanos(TICK_NANOS));
    }
    return (double) ok / total;
  }

  @Test
  void p2cEwmaStopsPreferringABackendItsClientsGiveUpOn() {
    LoadBalancer lb = builder(5, Strategies.P2C_EWMA).build();
    double success = clientTimeoutRun(lb, 16, Duration.ofSeconds(60));
    EndpointSnapshot e0 = lb.snapshot().endpoint("e0").orElseThrow();
    System.out.printf(
        "client-timeout p2c-ewma: success %.4f, e0 ewma %.1f ms, cancellations %d%n",
        success, e0.ewmaLatencyMillis(), e0.cancellations());
    assertThat(success).as("success share").isGreaterThanOrEqualTo(0.999);
    assertThat(e0.ewmaLatencyMillis())
        .as("e0's latency is at least the 1 s clients waited")
        .isGreaterThan(100);
  }

  @Test
  void anEndpointWithRequestsInFlightAndNoSampleCostsAPenalty() {
    LoadBalancer lb = builder(2, Strategies.P2C_EWMA).ewmaDefaultRtt(Duration.ofMillis(30)).build();
    // e1 has a real, slowish sample (100 ms); e0 has none and one request out.
    List<Lease> onE0 = RoutingFloorsTest.holdOn(lb, "e0", 1);
    assertThat(onE0).hasSize(1);
    Lease timed = RoutingFloorsTest.holdOn(lb, "e1", 1).get(0);
    time.advance(Duration.ofMillis(100));
    timed.success();
    int onE0Picks = 0;
    for (int i = 0; i < 200; i++) {
      Lease l = lb.acquire(RequestContext.none());
      onE0Picks += l.endpoint().id().equals("e0") ? 1 : 0;
      l.complete(Outcome.SUCCESS, -1); // no sample: the costs stay as they are
    }
    // Only when the pair draw repeats e0 five times (1 pick in 64) is it taken; unpriced, it won
    // every pair (60 ms against 100 ms).
    assertThat(onE0Picks).as("picks of the unsampled endpoint with a request out").isLessThan(12);
    onE0.get(0).success();
  }

  @Test
  void aCancellationAboveTheEstimateIsAPeakSampleAndABelowOneIsIgnored() {
    LoadBalancer lb = builder(2, Strategies.ROUND_ROBIN).build();
    Lease l = RoutingFloorsTest.holdOn(lb, "e0", 1).get(0);
    time.advance(Duration.ofMillis(800));
    l.close();
    assertThat(ewmaMillis(lb, "e0")).isCloseTo(800.0, org.assertj.core.data.Offset.offset(1.0));
    Lease quick = RoutingFloorsTest.holdOn(lb, "e0", 1).get(0);
    time.advance(Duration.ofMillis(1));
    double before = ewmaMillis(lb, "e0");
    quick.close(); // 1 ms says nothing about how fast it would have been
    assertThat(ewmaMillis(lb, "e0")).isEqualTo(before);
  }

  @Test
  void repeatedCancellationsPastTheSlowRequestThresholdEject() {
    OutlierDetection od = OutlierDetection.builder().ejectionJitter(0).build();
    assertThat(od.slowRequestThreshold()).isEqualTo(Duration.ofSeconds(5));
    LoadBalancer lb = builder(10, Strategies.ROUND_ROBIN).outlierDetection(od).build();
    cancelOn(lb, "e0", 5, Duration.ofSeconds(6));
    EndpointSnapshot e0 = lb.snapshot().endpoint("e0").orElseThrow();
    assertThat(e0.state()).isEqualTo(EndpointState.EJECTED);
    assertThat(e0.lastTransition().reason()).contains("5 consecutive failures");
    assertThat(e0.cancellations()).isEqualTo(5);
    assertThat(e0.failures()).isEqualTo(5);
  }

  @Test
  void cancellationsUnderTheThresholdAndUntimedOnesAreNotFailures() {
    OutlierDetection od = OutlierDetection.builder().ejectionJitter(0).build();
    LoadBalancer lb = builder(10, Strategies.ROUND_ROBIN).outlierDetection(od).build();
    cancelOn(lb, "e0", 20, Duration.ofSeconds(4));
    for (int i = 0; i < 20; i++) {
      Lease l = RoutingFloorsTest.holdOn(lb, "e0", 1).get(0);
      time.advance(Duration.ofSeconds(60));
      l.complete(Outcome.CANCELLED, -1); // a finished tunnel: no time, not the endpoint's fault
    }
    time.runDue();
    EndpointSnapshot e0 = lb.snapshot().endpoint("e0").orElseThrow();
    assertThat(e0.state()).isEqualTo(EndpointState.HEALTHY);
    assertThat(e0.failures()).isZero();
    assertThat(e0.cancellations()).isEqualTo(40);
  }

  private void cancelOn(LoadBalancer lb, String id, int times, Duration after) {
    for (int i = 0; i < times; i++) {
      List<Lease> held = new ArrayList<>(RoutingFloorsTest.holdOn(lb, id, 1));
      assertThat(held).hasSize(1);
      time.advance(after);
      held.get(0).close();
      time.runDue();
    }
  }

  private static double ewmaMillis(LoadBalancer lb, String id) {
    return lb.snapshot().endpoint(id).orElseThrow().ewmaLatencyMillis();
  }
}
