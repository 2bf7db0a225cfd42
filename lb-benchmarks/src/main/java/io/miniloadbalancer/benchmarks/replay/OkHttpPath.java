package io.miniloadbalancer.benchmarks.replay;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.HealthCheck;
import io.miniloadbalancer.core.HealthProbes;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.LoadBalancerBuilder;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.RetryPolicy;
import io.miniloadbalancer.okhttp.LoadBalancingInterceptor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import okhttp3.OkHttpClient;

/**
 * The replay's client path: an lb-core balancer built from the scenario's client settings (with the
 * run's overrides) inside an OkHttp client, through lb-okhttp's interceptor.
 */
final class OkHttpPath implements TrafficPath {

  /** The logical host the client calls; the interceptor maps it to the balancer. */
  static final String LOGICAL_HOST = "replay";

  /** The ejection time of a run without hysteresis: one health-check interval's worth. */
  static final Duration NO_DAMPING_EJECTION = Duration.ofSeconds(1);

  private final LoadBalancer balancer;
  private final OkHttpClient http;

  private OkHttpPath(LoadBalancer balancer, OkHttpClient http) {
    this.balancer = balancer;
    this.http = http;
  }

  static OkHttpPath open(
      Scenario scenario,
      Scenario.Run run,
      List<Endpoint> endpoints,
      RunRecorder recorder,
      long startNanos,
      ExecutorService calls) {
    Scenario.Client client = scenario.client();
    LoadBalancer balancer = balancer(scenario, run, endpoints, recorder, startNanos);
    TrafficPath.observeAttempts(balancer, recorder, startNanos);
    OkHttpClient http =
        TrafficPath.client(client, scenario.traffic().concurrency(), calls)
            .addInterceptor(
                LoadBalancingInterceptor.builder()
                    .route(LOGICAL_HOST, balancer)
                    .retryPolicy(RetryPolicy.defaults().withMaxRetries(run.retries(client)))
                    .hashKeyHeader(ReplayRunner.KEY_HEADER)
                    .build())
            .build();
    return new OkHttpPath(balancer, http);
  }

  /** The balancer for {@code run}: the scenario's client settings with the run's overrides. */
  private static LoadBalancer balancer(
      Scenario scenario,
      Scenario.Run run,
      List<Endpoint> endpoints,
      RunRecorder recorder,
      long startNanos) {
    Scenario.Client client = scenario.client();
    LoadBalancerBuilder builder =
        LoadBalancer.builder()
            .name(scenario.name())
            .endpoints(endpoints)
            .strategy(run.strategy())
            .randomSource(ReplayRunner.seeded(scenario.seed() ^ 0x5DEECE66DL))
            .hashBalanceFactor(
                run.hashBalanceFactor() != null
                    ? run.hashBalanceFactor()
                    : client.hashBalanceFactor())
            .listener(TrafficPath.transitions(recorder, startNanos));
    Scenario.HealthCheckSettings hc = client.healthCheck();
    if (hc != null) {
      builder.healthCheck(
          HealthCheck.builder(HealthProbes.http("/health", hc.timeout()))
              .interval(hc.interval())
              .timeout(hc.timeout())
              .rise(run.hysteresis() ? hc.rise() : 1)
              .fall(run.hysteresis() ? hc.fall() : 1)
              .build());
    }
    boolean outliers =
        run.outlierDetection() != null ? run.outlierDetection() : client.outlierDetection();
    if (outliers) {
      builder.outlierDetection(
          run.hysteresis()
              ? OutlierDetection.builder()
                  .activeCheckEndsEjection(run.activeCheckEndsEjection())
                  .build()
              // No damping: one failure ejects, for a short time that never grows.
              : OutlierDetection.builder()
                  .consecutiveFailures(1)
                  .baseEjectionTime(NO_DAMPING_EJECTION)
                  .maxEjectionTime(NO_DAMPING_EJECTION)
                  .ejectionJitter(0)
                  .build());
    }
    if (!run.retryBudget()) {
      // lb-core has no switch to turn the budget off; a budget this large never binds (retries
      // stay bounded by maxRetries per request).
      builder.retryBudget(1_000_000, 1_000_000, Duration.ofSeconds(1));
    }
    return builder.build();
  }

  @Override
  public LoadBalancer balancer() {
    return balancer;
  }

  @Override
  public OkHttpClient http() {
    return http;
  }

  @Override
  public String url(long key) {
    return "http://" + LOGICAL_HOST + "/work?key=" + key;
  }

  @Override
  public void close() {
    http.dispatcher().cancelAll();
    http.connectionPool().evictAll();
    balancer.close();
  }
}
