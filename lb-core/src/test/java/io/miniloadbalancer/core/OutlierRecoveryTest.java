package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.HealthProbe;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, rule 4: an endpoint's outlier window forgets the failures recorded before its recovery.
 * The case: all backends fail together, probes take them out and bring them back, and one
 * was ejected 4.3 s after the outage ended on the outage's own failures. Fake time.
 */
class OutlierRecoveryTest {

  private final FakeTime time = new FakeTime();
  private long outageStart = Long.MAX_VALUE;
  private long outageEnd = Long.MAX_VALUE;

  private boolean down() {
    long now = time.read();
    return now >= outageStart && now < outageEnd;
  }

  @Test
  void failuresFromTheOutageDoNotEjectAfterRecovery() {
    List<Transition> ejections = new CopyOnWriteArrayList<>();
    HealthProbe probe =
        endpoint ->
            CompletableFuture.completedFuture(
                down() ? ProbeResult.fail("refused") : ProbeResult.pass("ok"));
    LoadBalancer lb =
        LoadBalancer.builder()
            .name("outage")
            .endpoints(TestPools.uniform(3))
            .ticker(time)
            .scheduler(time)
            .randomSource(TestPools.seeded(9))
            .healthCheck(HealthCheck.builder(probe).jitter(0).build())
            .outlierDetection(OutlierDetection.builder().ejectionJitter(0).build())
            .panicThreshold(0)
            .listener(
                new BalancerListener() {
                  @Override
                  public void onTransition(Transition t) {
                    if (t.to() == EndpointState.EJECTED) {
                      ejections.add(t);
                    }
                  }
                })
            .build();
    time.advance(Duration.ofSeconds(5));
    outageStart = time.read();
    outageEnd = outageStart + Duration.ofSeconds(8).toNanos();
    long recoveredBy = outageEnd + Duration.ofSeconds(6).toNanos();
    // 200 requests a second throughout; each takes 5 ms and fails while the outage lasts.
    long end = outageEnd + Duration.ofSeconds(25).toNanos();
    while (time.read() < end) {
      Lease l;
      try {
        l = lb.acquire(RequestContext.none());
      } catch (NoEndpointAvailableException e) {
        time.advance(Duration.ofMillis(5));
        continue;
      }
      boolean fails = down();
      time.advance(Duration.ofMillis(5));
      if (fails) {
        l.failure();
      } else {
        l.success();
      }
    }
    assertThat(lb.snapshot().endpoints())
        .as("every endpoint recovered")
        .allMatch(e -> e.state() == EndpointState.HEALTHY);
    List<Transition> afterRecovery =
        ejections.stream().filter(t -> t.tickerNanos() >= outageEnd).toList();
    System.out.printf(
        "outage: %d ejections in it, %d after it ended: %s%n",
        ejections.size() - afterRecovery.size(),
        afterRecovery.size(),
        afterRecovery.stream()
            .map(t -> t.endpointId() + " +" + (t.tickerNanos() - outageEnd) / 1_000_000 + " ms")
            .toList());
    assertThat(afterRecovery).as("ejections after the outage ended").isEmpty();
    assertThat(recoveredBy).isLessThan(end);
  }
}
