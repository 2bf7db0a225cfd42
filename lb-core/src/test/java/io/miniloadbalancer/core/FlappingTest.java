package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.HealthProbe;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, rule 2: a flapping endpoint is held out (an active probe ends only a first ejection
 * early), while a one-off crash still recovers on its first passing probe. Fake time.
 */
class FlappingTest {

  private final FakeTime time = new FakeTime();
  private long flapStart;
  private long flapEnd = Long.MAX_VALUE;
  private final Transition[] lastEjection = new Transition[1];
  private boolean crash;

  /**
   * e0 is up in every even 300 ms slice between flapStart and flapEnd and down in every odd one;
   * with {@code crash}, down throughout; up outside.
   */
  private boolean e0Up() {
    long now = time.read();
    if (now < flapStart || now >= flapEnd) {
      return true;
    }
    return !crash && ((now - flapStart) / Duration.ofMillis(300).toNanos()) % 2 == 0;
  }

  private LoadBalancer balancer(AtomicInteger transitions, List<Transition> probeEnded) {
    HealthProbe probe =
        endpoint ->
            CompletableFuture.completedFuture(
                !endpoint.id().equals("e0") || e0Up()
                    ? ProbeResult.pass("up")
                    : ProbeResult.fail("down"));
    return LoadBalancer.builder()
        .name("flap")
        .endpoints(TestPools.uniform(5))
        .ticker(time)
        .scheduler(time)
        .randomSource(TestPools.seeded(11))
        .healthCheck(HealthCheck.builder(probe).build())
        .outlierDetection(OutlierDetection.defaults())
        .listener(
            new BalancerListener() {
              @Override
              public void onTransition(Transition t) {
                if (t.endpointId().equals("e0") && t.from() != null) {
                  transitions.incrementAndGet();
                  if (t.from() == EndpointState.EJECTED && t.cause() == Transition.Cause.PROBE) {
                    // The ejection that ended is named by the transition that started it.
                    probeEnded.add(lastEjection[0]);
                  }
                  if (t.to() == EndpointState.EJECTED) {
                    lastEjection[0] = t;
                  }
                }
              }
            })
        .build();
  }

  /** Four requests every 5 ms, each ending 5 ms later; one on e0 while it is down fails. */
  private long[] traffic(LoadBalancer lb, Duration length) {
    long onE0WhileDown = 0;
    long requests = 0;
    long end = time.read() + length.toNanos();
    Lease[] leases = new Lease[4];
    boolean[] fails = new boolean[leases.length];
    while (time.read() < end) {
      for (int i = 0; i < leases.length; i++) {
        leases[i] = lb.acquire(RequestContext.none());
        fails[i] = leases[i].endpoint().id().equals("e0") && !e0Up();
      }
      time.advance(Duration.ofMillis(5));
      for (int i = 0; i < leases.length; i++) {
        if (fails[i]) {
          leases[i].failure();
          onE0WhileDown++;
        } else {
          leases[i].success();
        }
        requests++;
      }
    }
    return new long[] {requests, onE0WhileDown};
  }

  @Test
  void aFlappingEndpointIsHeldOutInsteadOfLetBackByEachPassingProbe() {
    AtomicInteger transitions = new AtomicInteger();
    List<Transition> probeEnded = new CopyOnWriteArrayList<>();
    LoadBalancer lb = balancer(transitions, probeEnded);
    time.advance(Duration.ofSeconds(5));
    flapStart = time.read();
    long[] counts = traffic(lb, Duration.ofSeconds(60));
    System.out.printf(
        "flap 300 ms for 60 s: %d transitions of e0, %d of %d requests failed on e0%n",
        transitions.get(), counts[1], counts[0]);
    // Only a first ejection may end on a passing probe; later ones run their time.
    assertThat(probeEnded)
        .as("ejections ended early by a probe")
        .allMatch(t -> t.reason().contains("ejection #1"));
    // The same setup before this rule (every passing probe ended an ejection): 7 transitions, 12
    // failed requests; with it: 4 and 7.
    assertThat(transitions.get()).isLessThan(7);
  }

  @Test
  void aOneOffCrashStillComesBackOnItsFirstPassingProbe() {
    AtomicInteger transitions = new AtomicInteger();
    LoadBalancer lb = balancer(transitions, new CopyOnWriteArrayList<>());
    time.advance(Duration.ofSeconds(5));
    crash = true;
    // Down for 3 s once: its failed requests eject it, then a passing probe ends the ejection.
    flapStart = time.read();
    flapEnd = flapStart + Duration.ofSeconds(3).toNanos();
    traffic(lb, Duration.ofSeconds(3));
    assertThat(lb.snapshot().endpoint("e0").orElseThrow().state()).isEqualTo(EndpointState.EJECTED);
    traffic(lb, Duration.ofSeconds(5)); // within two probe intervals, far under the 30 s ejection
    EndpointSnapshot e0 = lb.snapshot().endpoint("e0").orElseThrow();
    assertThat(e0.state()).isEqualTo(EndpointState.HEALTHY);
    assertThat(e0.lastTransition().cause()).isEqualTo(Transition.Cause.PROBE);
  }
}
