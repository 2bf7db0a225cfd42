package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Races from a latch; afterwards the counters must add up exactly. */
class ConcurrencyTest {

  private static final int THREADS = 4;

  static List<String> strategies() {
    return Strategies.names();
  }

  @ParameterizedTest
  @MethodSource("strategies")
  void stormOfLeasesLeavesEveryInFlightAtZeroAndTotalsAddUp(String strategy) throws Exception {
    LoadBalancer lb =
        LoadBalancer.builder()
            .endpoints(TestPools.weighted(1, 2, 3, 5, 8))
            .strategy(strategy)
            .hashBalanceFactor(strategy.contains("hash") || strategy.equals("maglev") ? 150 : 0)
            .build();
    int perThread = 20_000;
    AtomicLong ok = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicLong cancelled = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      futures.add(
          pool.submit(
              () -> {
                start.await();
                ThreadLocalRandom random = ThreadLocalRandom.current();
                List<Lease> held = new ArrayList<>();
                for (int i = 0; i < perThread; i++) {
                  held.add(lb.acquire(RequestContext.ofKey("k" + random.nextInt(100))));
                  if (held.size() > 8 || random.nextBoolean()) {
                    Lease lease = held.remove(random.nextInt(held.size()));
                    switch (random.nextInt(5)) {
                      case 0 -> {
                        lease.success();
                        lease.close(); // try-with-resources after
                        // success: no double count
                        ok.incrementAndGet();
                      }
                      case 1 -> {
                        lease.failure();
                        lease.failure();
                        failed.incrementAndGet();
                      }
                      case 2 -> {
                        lease.close(); // no outcome at all
                        cancelled.incrementAndGet();
                      }
                      default -> {
                        lease.complete(Outcome.SUCCESS, 1_000);
                        ok.incrementAndGet();
                      }
                    }
                  }
                }
                for (Lease lease : held) {
                  lease.success();
                  ok.incrementAndGet();
                }
                return null;
              }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();

    BalancerSnapshot s = lb.snapshot();
    assertThat(s.endpoints()).allSatisfy(e -> assertThat(e.inFlight()).as(e.id()).isZero());
    long successes = s.endpoints().stream().mapToLong(EndpointSnapshot::successes).sum();
    long failures = s.endpoints().stream().mapToLong(EndpointSnapshot::failures).sum();
    long cancellations = s.endpoints().stream().mapToLong(EndpointSnapshot::cancellations).sum();
    assertThat(successes).isEqualTo(ok.get());
    assertThat(failures).isEqualTo(failed.get());
    assertThat(cancellations).isEqualTo(cancelled.get());
    assertThat(successes + failures + cancellations).isEqualTo((long) THREADS * perThread);
  }

  @Test
  void switchingStrategiesUnderLoadLosesNoLease() throws Exception {
    LoadBalancer lb =
        LoadBalancer.builder()
            .endpoints(TestPools.weighted(1, 1, 2, 4))
            .minSwitchInterval(Duration.ZERO)
            .hashBalanceFactor(150)
            .build();
    AtomicBoolean running = new AtomicBoolean(true);
    ConcurrentLinkedQueue<Lease> open = new ConcurrentLinkedQueue<>();
    AtomicLong acquired = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      futures.add(
          pool.submit(
              () -> {
                start.await();
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < 2_000_000 && running.get(); i++) {
                  open.add(lb.acquire(RequestContext.ofKey("k" + random.nextInt(50))));
                  acquired.incrementAndGet();
                  if (open.size() > 64) {
                    Lease lease = open.poll();
                    if (lease != null) {
                      lease.success();
                    }
                  }
                }
                return null;
              }));
    }
    start.countDown();
    int switches = 0;
    List<String> names = Strategies.names();
    for (int round = 0; round < 200; round++) {
      String next = names.get(round % names.size());
      lb.switchStrategy(next, "test").join();
      switches++;
    }
    running.set(false);
    for (Future<?> f : futures) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    int stillOpen = open.size();
    assertThat(lb.snapshot().totalInFlight()).isEqualTo(stillOpen);
    Lease lease;
    while ((lease = open.poll()) != null) {
      lease.success();
    }
    BalancerSnapshot s = lb.snapshot();
    assertThat(s.totalInFlight()).isZero();
    assertThat(s.endpoints().stream().mapToLong(EndpointSnapshot::successes).sum())
        .isEqualTo(acquired.get());
    assertThat(switches).isEqualTo(200);
  }

  @Test
  void removalsRacingWithPicksNeverStartALeaseOnARemovedEndpoint() throws Exception {
    StaticEndpointSource source = new StaticEndpointSource(TestPools.uniform(4));
    LoadBalancer lb = LoadBalancer.builder().source(source).strategy(Strategies.RANDOM).build();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong violations = new AtomicLong();
    // Odd: e3 is in the pool; even: it is out. A pick is judged only when the epoch did not
    // move
    // while it ran, so a re-add and re-removal during one acquire cannot look like "out all
    // along".
    AtomicLong epoch = new AtomicLong(1);
    AtomicLong picks = new AtomicLong();
    AtomicLong picksWhileAbsent = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    Future<?> picker =
        pool.submit(
            () -> {
              start.await();
              while (running.get()) {
                long before = epoch.get();
                try (Lease lease = lb.acquire(RequestContext.none())) {
                  // e3 was out of the pool for the whole acquire: it must not be
                  // chosen.
                  if (before % 2 == 0 && epoch.get() == before) {
                    picksWhileAbsent.incrementAndGet();
                    if (lease.endpoint().id().equals("e3")) {
                      violations.incrementAndGet();
                    }
                  }
                  lease.success();
                }
                picks.incrementAndGet();
              }
              return null;
            });
    start.countDown();
    Endpoint e3 = source.endpoints().get(3);
    for (int i = 0; i < 1_000; i++) {
      source.remove("e3");
      // Drained and removed synchronously unless a lease is open; then at most once it
      // finishes.
      org.awaitility.Awaitility.await()
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(1))
          .atMost(Duration.ofSeconds(5))
          .until(() -> lb.snapshot().endpoint("e3").isEmpty());
      epoch.incrementAndGet(); // out
      long seen = picks.get();
      while (picks.get() < seen + 20 && running.get()) {
        Thread.onSpinWait();
      }
      epoch.incrementAndGet(); // about to come back
      source.add(e3);
    }
    running.set(false);
    picker.get(30, TimeUnit.SECONDS);
    pool.shutdown();
    assertThat(picksWhileAbsent.get()).as("picks made while e3 was out").isGreaterThan(5_000);
    assertThat(violations.get()).isZero();
    assertThat(lb.snapshot().totalInFlight()).isZero();
  }
}
