package io.miniloadbalancer.benchmarks;

import dev.failsafe.CircuitBreaker;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a per-endpoint circuit breaker costs per request on the success path: Failsafe's {@link
 * CircuitBreaker} ({@code tryAcquirePermit} + {@code recordSuccess}, as a balancer would call it
 * around each request) against what lb-core's own breaker adds to a lease (a volatile read of the
 * half-open flag at acquire and of the failure streak at completion).
 *
 * <p>Run: {@code java -jar lb-benchmarks/target/benchmarks.jar BreakerBenchmark -t 1 -prof gc} (and
 * {@code -t 2}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BreakerBenchmark {

  private final CircuitBreaker<Object> failsafe =
      CircuitBreaker.builder()
          .withFailureRateThreshold(50, 20, Duration.ofSeconds(10))
          .withDelay(Duration.ofSeconds(30))
          .withSuccessThreshold(3)
          .build();

  private volatile boolean halfOpen;
  private volatile int consecutiveFailures;

  /** Failsafe: permit, then record the success. */
  @Benchmark
  public boolean failsafePermitAndRecordSuccess() {
    boolean permitted = failsafe.tryAcquirePermit();
    failsafe.recordSuccess();
    return permitted;
  }

  /** lb-core: the two reads its breaker adds to a successful lease. */
  @Benchmark
  public boolean coreGateAndStreakReset() {
    boolean gated = halfOpen;
    if (consecutiveFailures != 0) {
      consecutiveFailures = 0;
    }
    return gated;
  }
}
