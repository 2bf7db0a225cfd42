package io.miniloadbalancer.benchmarks;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.Strategies;
import io.miniloadbalancer.metrics.LoadBalancerMetrics;
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
 * The same acquire + complete as {@link PickBenchmark}, with the lb-metrics binder attached to a
 * Prometheus registry ({@code metrics=on}) or not ({@code metrics=off}), in one run: what request
 * metrics cost per request, and whether they allocate.
 *
 * <p>Run: {@code java -jar lb-benchmarks/target/benchmarks.jar MetricsBenchmark -t 1 -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MetricsBenchmark {

  @Param({Strategies.ROUND_ROBIN, Strategies.P2C_EWMA, Strategies.MAGLEV})
  public String strategy;

  @Param({"off", "on"})
  public String metrics;

  private LoadBalancer balancer;
  private LoadBalancerMetrics binder;

  @Setup(Level.Trial)
  public void setUp() {
    balancer = BenchmarkFixtures.balancer(strategy, 100, 0);
    if (metrics.equals("on")) {
      binder = LoadBalancerMetrics.builder(balancer).build();
      binder.bindTo(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (binder != null) {
      binder.close();
    }
    balancer.close();
  }

  /** Acquire, then complete with a caller-measured latency; returns the lease (no DCE). */
  @Benchmark
  public Lease acquireAndComplete(BenchmarkFixtures.Keys keys) {
    Lease lease = balancer.acquire(keys.next());
    lease.complete(Outcome.SUCCESS, PickBenchmark.LATENCY_NANOS);
    return lease;
  }
}
