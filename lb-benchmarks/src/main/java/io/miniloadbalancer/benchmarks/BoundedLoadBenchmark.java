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
 * The same acquire-and-complete as {@link PickBenchmark}, for ring-hash and maglev with bounded
 * loads on ({@code hashBalanceFactor(150)}), over 100 and 1,000 mixed-weight endpoints.
 *
 * <p>Why: bounded loads add work to every keyed pick, not only to the ones that spill over: the
 * balancer keeps a pool-wide in-flight total (a {@code LongAdder} incremented on acquire and
 * decremented on completion, and summed on each pick) and checks the chosen endpoint's capacity.
 * Compare with the same strategy and pool size in {@link PickBenchmark} to see that overhead. With
 * one lease per thread the pool never fills, so this measures the check, not long walks.
 *
 * <p>Run from the repository root after {@code mvn -o -q -pl lb-benchmarks package}:
 *
 * <pre>
 * java -jar lb-benchmarks/target/benchmarks.jar 'BoundedLoadBenchmark' -t 1 -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BoundedLoadBenchmark {

  /** 1.5 x the weighted mean share: the middle of the recommended 125..200 range. */
  static final int HASH_BALANCE_FACTOR = 150;

  @Param({Strategies.RING_HASH, Strategies.MAGLEV})
  public String strategy;

  @Param({"100", "1000"})
  public int endpoints;

  private LoadBalancer balancer;

  @Setup(Level.Trial)
  public void setUp() {
    balancer = BenchmarkFixtures.balancer(strategy, endpoints, HASH_BALANCE_FACTOR);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    balancer.close();
  }

  /** Acquire, then complete with a latency the caller measured; returns the lease (no DCE). */
  @Benchmark
  public Lease acquireAndComplete(BenchmarkFixtures.Keys keys) {
    Lease lease = balancer.acquire(keys.next());
    lease.complete(Outcome.SUCCESS, PickBenchmark.LATENCY_NANOS);
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
