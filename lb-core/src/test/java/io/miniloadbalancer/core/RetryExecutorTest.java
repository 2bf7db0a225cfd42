package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RetryExecutorTest {

  private final FakeTime time = new FakeTime();
  private static final RetryPolicy NO_BACKOFF =
      RetryPolicy.defaults().withBackoff(Duration.ZERO, Duration.ZERO);

  private LoadBalancer balancer(int n) {
    return LoadBalancer.builder()
        .name("retry")
        .endpoints(TestPools.uniform(n))
        .ticker(time)
        .scheduler(time)
        .randomSource(TestPools.seeded(23))
        .build();
  }

  @Test
  void aFailingEndpointsRequestIsRetriedOnAnother() {
    LoadBalancer lb = balancer(3);
    RetryExecutor retries = lb.retries(NO_BACKOFF);
    for (int i = 0; i < 300; i++) {
      // 10 requests a second: the budget's per-second minimum covers every retry. (All 300 in
      // one instant would ask for ~100 retries at once, a burst the budget exists to refuse.)
      time.advance(Duration.ofMillis(100));
      RetryResult<String> r =
          retries.execute(
              RequestContext.none(),
              true,
              code -> code.startsWith("5"),
              lease -> {
                if (lease.endpoint().id().equals("e1")) {
                  lease.failure();
                  return "503";
                }
                lease.success();
                return "200";
              });
      assertThat(r.value()).isEqualTo("200");
      assertThat(r.failed()).isFalse();
      if (r.attempts().size() == 2) {
        assertThat(r.attempts().get(0).endpointId()).isEqualTo("e1");
        assertThat(r.attempts().get(1).endpointId()).isNotEqualTo("e1");
      }
    }
    assertThat(lb.snapshot().totalInFlight()).isZero();
  }

  @Test
  void nonIdempotentRequestsAreNotRetried() {
    LoadBalancer lb = balancer(3);
    AtomicInteger calls = new AtomicInteger();
    RetryResult<String> r =
        lb.retries(NO_BACKOFF)
            .execute(
                RequestContext.none(),
                RetryPolicy.isIdempotent("POST"),
                code -> code.startsWith("5"),
                lease -> {
                  calls.incrementAndGet();
                  lease.failure();
                  return "503";
                });
    assertThat(calls.get()).isEqualTo(1);
    assertThat(r.value()).isEqualTo("503");
    assertThat(r.failed()).isTrue();
  }

  @Test
  void everyAttemptGoesToADifferentEndpointEvenWithAHashKey() {
    LoadBalancer lb =
        LoadBalancer.builder()
            .endpoints(TestPools.uniform(4))
            .strategy(Strategies.RING_HASH)
            .build();
    RetryResult<Void> r =
        lb.retries(NO_BACKOFF.withMaxRetries(3))
            .execute(
                RequestContext.ofKey("user-1"),
                true,
                v -> false,
                lease -> {
                  throw new ConnectException("refused by " + lease.endpoint().id());
                });
    Set<String> tried = new HashSet<>();
    r.attempts().forEach(a -> tried.add(a.endpointId()));
    assertThat(r.attempts()).hasSize(4);
    assertThat(tried).hasSize(4);
    assertThat(r.error()).isInstanceOf(ConnectException.class);
    assertThat(r.describe()).contains("attempt 1 on", "attempt 4 on", "ConnectException");
    assertThat(lb.snapshot().totalInFlight()).isZero();
  }

  @Test
  void retriesStopWhenNoUntriedEndpointIsLeft() {
    LoadBalancer lb = balancer(2);
    RetryResult<Void> r =
        lb.retries(NO_BACKOFF.withMaxRetries(5))
            .execute(
                RequestContext.none(),
                true,
                v -> false,
                lease -> {
                  throw new IOException("down");
                });
    assertThat(r.attempts()).hasSize(3);
    assertThat(r.attempts().get(2).detail()).isEqualTo("no untried endpoint left");
    assertThat(r.error()).isInstanceOf(IOException.class);
  }

  @Test
  void aTotalOutageIsBoundedByTheBudget() {
    LoadBalancer lb = balancer(5);
    RetryExecutor retries = lb.retries(NO_BACKOFF.withMaxRetries(3));
    AtomicInteger attempts = new AtomicInteger();
    int requests = 10_000;
    int exhausted = 0;
    for (int i = 0; i < requests; i++) {
      RetryResult<String> r =
          retries.execute(
              RequestContext.none(),
              true,
              code -> true,
              lease -> {
                attempts.incrementAndGet();
                lease.failure();
                return "503";
              });
      exhausted += r.budgetExhausted() ? 1 : 0;
    }
    // Default budget: 20% of requests as they come (at most one retry's credit carried) plus a
    // reserve of 10 per 1 s window (all requests fall in one instant here).
    int minimumAllowance = 10 + 1;
    assertThat(attempts.get()).isLessThanOrEqualTo((int) (1.2 * requests) + minimumAllowance);
    assertThat(attempts.get()).isGreaterThan(requests + 1_000);
    assertThat(exhausted).isPositive();
    assertThat(lb.snapshot().retryBudgetAvailable()).isZero();
  }

  @Test
  void retriesNeverNest() {
    LoadBalancer lb = balancer(3);
    RetryExecutor retries = lb.retries(NO_BACKOFF.withMaxRetries(2));
    AtomicInteger inner = new AtomicInteger();
    RetryResult<String> outer =
        retries.execute(
            RequestContext.none(),
            true,
            code -> code.startsWith("5"),
            lease -> {
              RetryResult<String> nested =
                  retries.execute(
                      RequestContext.none(),
                      true,
                      code -> code.startsWith("5"),
                      innerLease -> {
                        inner.incrementAndGet();
                        innerLease.failure();
                        return "503";
                      });
              lease.failure();
              return nested.value();
            });
    assertThat(outer.attempts()).hasSize(3);
    assertThat(inner.get()).as("one inner attempt per outer attempt").isEqualTo(3);
  }
}
