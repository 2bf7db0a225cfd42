package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, rule 3: the retry budget bounds retries against requests in flight now and over a short
 * window, so a total outage after a healthy period gets no burst of saved-up retries. Driven the
 * way a non-blocking caller (the proxy) drives a {@link RetryExecutor.RetryTracker}, in fake time.
 */
class RetryBudgetBurstTest {

  private static final Duration TICK = Duration.ofMillis(5);
  private static final int CLIENTS = 40;

  private final FakeTime time = new FakeTime();

  @Test
  void aTotalOutageNeverLetsRetriesPastTheBoundInAnyWindow() {
    LoadBalancer lb =
        LoadBalancer.builder()
            .name("outage")
            .endpoints(TestPools.uniform(3))
            .ticker(time)
            .scheduler(time)
            .randomSource(TestPools.seeded(3))
            .build();
    RetryExecutor executor =
        lb.retries(
            RetryPolicy.defaults().withMaxRetries(2).withBackoff(Duration.ZERO, Duration.ZERO));
    int ticks = (int) (Duration.ofSeconds(30).toNanos() / TICK.toNanos());
    int outageStart = (int) (Duration.ofSeconds(10).toNanos() / TICK.toNanos());
    long[] requests = new long[ticks];
    long[] attempts = new long[ticks];
    RetryExecutor.RetryTracker[] trackers = new RetryExecutor.RetryTracker[CLIENTS];
    RequestContext[] contexts = new RequestContext[CLIENTS];
    Lease[] leases = new Lease[CLIENTS];
    boolean[] isRetry = new boolean[CLIENTS];
    int worstInFlight = 0;
    for (int tick = 0; tick < ticks; tick++) {
      boolean outage = tick >= outageStart;
      int open = 0;
      int retriesOpen = 0;
      for (int c = 0; c < CLIENTS; c++) {
        Lease l = leases[c];
        if (l != null) {
          // Each attempt takes one tick: it answers when healthy, is refused in the outage.
          leases[c] = null;
          if (!outage) {
            l.success();
          } else {
            l.failure();
            if (trackers[c].grant() >= 0) {
              RequestContext next = contexts[c].excluding(l.endpoint().id());
              try {
                leases[c] = lb.acquire(next);
                contexts[c] = next;
                isRetry[c] = true;
                attempts[tick]++;
              } catch (NoEndpointAvailableException e) {
                trackers[c].refund();
              }
            }
          }
        }
        if (leases[c] == null) {
          trackers[c] = executor.track(true);
          contexts[c] = RequestContext.none();
          leases[c] = lb.acquire(contexts[c]);
          isRetry[c] = false;
          requests[tick]++;
          attempts[tick]++;
        }
        open++;
        retriesOpen += isRetry[c] ? 1 : 0;
      }
      // Envoy's bound: retries in flight <= max(minimum, 20% of requests in flight).
      assertThat(retriesOpen)
          .as("retries in flight at tick %d", tick)
          .isLessThanOrEqualTo(Math.max(10, (int) (0.2 * open)));
      worstInFlight = Math.max(worstInFlight, retriesOpen);
      time.advance(TICK);
    }
    int window = (int) (Duration.ofSeconds(1).toNanos() / TICK.toNanos());
    double worst = 0;
    for (int start = 0; start + window <= ticks; start++) {
      long req = 0;
      long att = 0;
      for (int t = start; t < start + window; t++) {
        req += requests[t];
        att += attempts[t];
      }
      worst = Math.max(worst, (att - 11.0) / req);
      // The budget's bound: 20% of requests + the 10/s reserve + the one carried token.
      assertThat((double) att)
          .as("attempts in the 1 s window from tick %d (%d requests)", start, req)
          .isLessThanOrEqualTo(1.2 * req + 11);
    }
    System.out.printf(
        "outage: worst 1 s window (attempts - 11) / requests = %.3f, retries in flight max %d,"
            + " granted %d, refused %d%n",
        worst, worstInFlight, lb.retriesGranted(), lb.retriesRefused());
    assertThat(lb.retriesRefused()).as("the budget did refuse in the outage").isPositive();
    assertThat(lb.snapshot().totalInFlight()).isLessThanOrEqualTo(CLIENTS);
  }
}
