package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The retry executor cannot leak a lease: 10,000 executions of every way an attempt can end, then
 * every endpoint's in-flight count is 0 and every lease that was taken was ended exactly once.
 * Attempts in these tests never touch their lease unless the mode says so, which is how the
 * README's snippet used to leak (10 calls, {@code inFlight=10}).
 */
class RetryLeaseSafetyTest {

  private static final int RUNS = 10_000;
  private static final RetryPolicy POLICY =
      RetryPolicy.defaults().withMaxRetries(2).withBackoff(Duration.ZERO, Duration.ZERO);

  private final FakeTime time = new FakeTime();
  private final AtomicInteger leasesTaken = new AtomicInteger();

  private LoadBalancer balancer() {
    return LoadBalancer.builder()
        .name("leases")
        .endpoints(TestPools.uniform(3))
        .ticker(time)
        .scheduler(time)
        .randomSource(TestPools.seeded(17))
        // A budget that always grants, so every retry path is taken on every run.
        .retryBudget(1_000, 1_000_000, Duration.ofSeconds(1))
        .build();
  }

  /** A response-like value that counts its closes. */
  private static final class Body implements AutoCloseable {
    static final AtomicInteger OPEN = new AtomicInteger();
    final String status;
    private boolean closed;

    Body(String status) {
      this.status = status;
      OPEN.incrementAndGet();
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        OPEN.decrementAndGet();
      }
    }
  }

  enum Mode {
    SUCCESS,
    RETRIED_FAILURE,
    EXCEPTION,
    INTERRUPT,
    CANCELLATION,
    DISCARDED_RESPONSE,
    STREAMING_BODY,
    CALLBACK_THROWS,
    ATTEMPT_COMPLETES_ITSELF
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void tenThousandExecutionsLeaveEveryInFlightCountAtZero(Mode mode) {
    LoadBalancer lb = balancer();
    RetryExecutor retries = lb.retries(POLICY);
    Body.OPEN.set(0);
    for (int i = 0; i < RUNS; i++) {
      run(mode, lb, retries, i);
      assertThat(Thread.interrupted())
          .as("the executor re-asserts an interrupt")
          .isEqualTo(mode == Mode.INTERRUPT);
    }
    assertNoLeaseLeft(lb);
    assertThat(Body.OPEN.get()).as("every discarded or returned body was closed").isZero();
    if (mode == Mode.RETRIED_FAILURE
        || mode == Mode.DISCARDED_RESPONSE
        || mode == Mode.STREAMING_BODY) {
      assertThat(lb.snapshot().endpoint("e0").orElseThrow().failures())
          .as("the sick endpoint's attempts were failures")
          .isPositive();
    }
  }

  @Test
  void mixedModesFromFourThreadsLeaveEveryInFlightCountAtZero() throws Exception {
    LoadBalancer lb = balancer();
    RetryExecutor retries = lb.retries(POLICY);
    Mode[] modes = Mode.values();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int offset = t;
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < RUNS / 4; i++) {
                    run(modes[(i + offset) % modes.length], lb, retries, i);
                    Thread.interrupted();
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertNoLeaseLeft(lb);
  }

  @Test
  void aStreamingResultCountsTheEndpointUntilItIsClosed() {
    LoadBalancer lb = balancer();
    StreamingResult<Body> r =
        lb.retries(POLICY)
            .executeStreaming(
                RequestContext.none(), true, b -> false, Body::close, lease -> new Body("200"));
    assertThat(r.holdsLease()).isTrue();
    assertThat(lb.snapshot().totalInFlight()).isEqualTo(1);
    assertThat(lb.snapshot().endpoint(r.endpoint().id()).orElseThrow().inFlight()).isEqualTo(1);
    r.close();
    r.close();
    assertThat(r.holdsLease()).isFalse();
    assertThat(lb.snapshot().totalInFlight()).isZero();
    assertThat(lb.snapshot().endpoint(r.endpoint().id()).orElseThrow().successes()).isEqualTo(1);
    r.value().close();
  }

  private void assertNoLeaseLeft(LoadBalancer lb) {
    BalancerSnapshot s = lb.snapshot();
    assertThat(s.totalInFlight()).isZero();
    assertThat(s.endpoints())
        .allSatisfy(e -> assertThat(e.inFlight()).as(e.endpoint().id()).isZero());
    long ended =
        s.endpoints().stream()
            .mapToLong(e -> e.successes() + e.failures() + e.cancellations() + e.overloaded())
            .sum();
    assertThat(ended).as("every lease taken was ended exactly once").isEqualTo(leasesTaken.get());
  }

  /** One execution in {@code mode}; endpoint e0 is the sick one where a mode needs one. */
  private void run(Mode mode, LoadBalancer lb, RetryExecutor retries, int i) {
    RequestContext ctx = RequestContext.none();
    switch (mode) {
      case SUCCESS -> {
        RetryResult<String> r =
            retries.execute(
                ctx,
                true,
                s -> s.startsWith("5"),
                lease -> {
                  leasesTaken.incrementAndGet();
                  return "200";
                });
        assertThat(r.failed()).isFalse();
      }
      case RETRIED_FAILURE -> {
        RetryResult<String> r =
            retries.execute(
                ctx,
                true,
                s -> s.startsWith("5"),
                lease -> {
                  leasesTaken.incrementAndGet();
                  return lease.endpoint().id().equals("e0") ? "503" : "200";
                });
        assertThat(r.value()).isEqualTo("200");
      }
      case EXCEPTION -> {
        RetryResult<String> r =
            retries.execute(
                ctx,
                true,
                s -> false,
                lease -> {
                  leasesTaken.incrementAndGet();
                  throw new IOException("reset by " + lease.endpoint().id());
                });
        assertThat(r.attempts()).hasSize(3);
        assertThat(r.error()).isInstanceOf(IOException.class);
      }
      case INTERRUPT -> {
        // Either the attempt is interrupted, or the thread is interrupted after a failed
        // answer
        // and the backoff gives up.
        boolean throwIt = i % 2 == 0;
        RetryResult<String> r =
            retries.execute(
                ctx,
                true,
                s -> s.startsWith("5"),
                lease -> {
                  leasesTaken.incrementAndGet();
                  if (throwIt) {
                    throw new InterruptedException();
                  }
                  Thread.currentThread().interrupt();
                  return "503";
                });
        assertThat(r.attempts()).hasSize(1);
      }
      case CANCELLATION -> {
        RetryResult<String> r =
            retries.execute(
                ctx,
                true,
                s -> false,
                lease -> {
                  leasesTaken.incrementAndGet();
                  throw new CancellationException("caller gave up");
                });
        assertThat(r.error()).isInstanceOf(CancellationException.class);
      }
      case DISCARDED_RESPONSE -> {
        // The default discard closes a failed AutoCloseable value that a retry replaces.
        RetryResult<Body> r =
            retries.execute(
                ctx,
                true,
                b -> b.status.startsWith("5"),
                lease -> {
                  leasesTaken.incrementAndGet();
                  return new Body(lease.endpoint().id().equals("e0") ? "503" : "200");
                });
        assertThat(r.value().status).isEqualTo("200");
        r.value().close();
      }
      case STREAMING_BODY -> {
        try (StreamingResult<Body> r =
            retries.executeStreaming(
                ctx,
                true,
                b -> b.status.startsWith("5"),
                Body::close,
                lease -> {
                  leasesTaken.incrementAndGet();
                  return new Body(lease.endpoint().id().equals("e0") ? "503" : "200");
                })) {
          assertThat(r.holdsLease()).isTrue();
          assertThat(r.value().status).isEqualTo("200");
          // The body is read, then the stream ends one of three ways.
          switch (i % 3) {
            case 0 -> r.fail();
            case 1 -> r.cancel();
            default -> {}
          }
          r.value().close();
        }
      }
      case CALLBACK_THROWS -> {
        switch (i % 3) {
          case 0 ->
              assertThatThrownBy(
                      () ->
                          retries.execute(
                              ctx,
                              true,
                              s -> {
                                throw new IllegalStateException("classifier bug");
                              },
                              lease -> {
                                leasesTaken.incrementAndGet();
                                return "200";
                              }))
                  .hasMessage("classifier bug");
          case 1 -> {
            assertThatThrownBy(
                    () ->
                        retries.execute(
                            ctx,
                            true,
                            s -> true,
                            s -> {
                              throw new IllegalStateException("discard bug");
                            },
                            lease -> {
                              leasesTaken.incrementAndGet();
                              return "503";
                            }))
                .hasMessage("discard bug");
            // The retry's lease was taken before the discard threw: it is released
            // unused.
            leasesTaken.incrementAndGet();
          }
          default ->
              assertThatThrownBy(
                      () ->
                          retries.execute(
                              ctx,
                              true,
                              s -> false,
                              lease -> {
                                leasesTaken.incrementAndGet();
                                throw new AssertionError("an Error escapes");
                              }))
                  .isInstanceOf(AssertionError.class);
        }
      }
      case ATTEMPT_COMPLETES_ITSELF -> {
        // Code written for the old contract (the attempt completes its lease) still works.
        RetryResult<String> r =
            retries.execute(
                ctx,
                true,
                s -> s.startsWith("5"),
                lease -> {
                  leasesTaken.incrementAndGet();
                  if (lease.endpoint().id().equals("e0")) {
                    lease.overloaded(Duration.ofMillis(1));
                    return "503";
                  }
                  lease.success();
                  return "200";
                });
        assertThat(r.value()).isEqualTo("200");
      }
      default -> throw new AssertionError(mode);
    }
  }
}
