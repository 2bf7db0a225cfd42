package io.miniloadbalancer.benchmarks;

import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.Strategies;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The data path's cost per request: one {@link LoadBalancer#acquire} plus completing the lease, for
 * every built-in strategy over 10, 100 and 1,000 endpoints of mixed weight (see {@link
 * BenchmarkFixtures#endpoints}).
 *
 * <p>Why: the balancer sits in front of every outgoing call, so its pick-and-complete must stay in
 * the tens of nanoseconds and allocate only the {@link Lease} (the documented contract). This shows
 * how each strategy scales with pool size and, run with {@code -t 2}, what contention on shared
 * counters (round-robin's cursor, per-endpoint in-flight counts) costs. Bounded-load hashing is
 * measured separately in {@link BoundedLoadBenchmark}.
 *
 * <p>Every strategy gets the same keyed {@link io.miniloadbalancer.core.RequestContext} from a
 * per-thread cycle of 1,024 keys, so ring-hash and maglev do a real keyed lookup (without a key
 * they fall back to weighted random) and the others do identical surrounding work. Each thread has
 * at most one lease open, so load-aware strategies always see an almost idle pool:
 * least-connections stops its scan at the first idle endpoint and does not show its O(n) worst case
 * here.
 *
 * <ul>
 *   <li>{@link #acquireAndComplete}: completes with a caller-measured latency (1 ms, status 200).
 *   <li>{@link #acquireAndSuccess}: {@link Lease#success()}, the common call, which times the
 *       request itself.
 * </ul>
 *
 * <p>Run from the repository root after {@code mvn -o -q -pl lb-benchmarks package}:
 *
 * <pre>
 * java -jar lb-benchmarks/target/benchmarks.jar 'PickBenchmark' -t 1 -prof gc
 * java -jar lb-benchmarks/target/benchmarks.jar 'PickBenchmark.acquireAndComplete' -t 2 -prof gc \
 *     -p strategy=maglev -p endpoints=100
 * </pre>
 *
 * <p>or {@code lb-benchmarks/run-pick-benchmarks.sh} for the full set with JSON results.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PickBenchmark {

  /** Latency reported by {@link #acquireAndComplete}: 1 ms, a typical in-datacenter call. */
  static final long LATENCY_NANOS = 1_000_000L;

  @Param({
    Strategies.ROUND_ROBIN,
    Strategies.RANDOM,
    Strategies.LEAST_CONNECTIONS,
    Strategies.LEAST_CONNECTIONS_P2C,
    Strategies.P2C_EWMA,
    Strategies.RING_HASH,
    Strategies.MAGLEV
  })
  public String strategy;

  @Param({"10", "100", "1000"})
  public int endpoints;

  /** "off": the bare data path; "on": health checks, outlier detection, breakers and panic on. */
  @Param({"off", "on"})
  public String health;

  private LoadBalancer balancer;

  @Setup(Level.Trial)
  public void setUp() {
    balancer = BenchmarkFixtures.balancer(strategy, endpoints, 0, health.equals("on"));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    balancer.close();
  }

  /** Acquire, then complete with a latency the caller measured; returns the lease (no DCE). */
  @Benchmark
  public Lease acquireAndComplete(BenchmarkFixtures.Keys keys) {
    Lease lease = balancer.acquire(keys.next());
    lease.complete(Outcome.SUCCESS, LATENCY_NANOS);
    return lease;
  }

  /** Acquire, then {@link Lease#success()}, which reads the ticker to time the request. */
  @Benchmark
  public Lease acquireAndSuccess(BenchmarkFixtures.Keys keys) {
    Lease lease = balancer.acquire(keys.next());
    lease.success();
    return lease;
  }
}
