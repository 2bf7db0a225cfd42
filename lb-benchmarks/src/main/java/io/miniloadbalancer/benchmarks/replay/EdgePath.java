package io.miniloadbalancer.benchmarks.replay;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.edge.EdgeProxy;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.config.InvalidConfigException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import okhttp3.OkHttpClient;

/**
 * The replay's proxy path: the edge proxy (lb-edge's {@link EdgeProxy}) started in this process
 * with one pool, {@value #POOL}, equivalent to the scenario's client settings (with the run's
 * overrides), in front of the scenario's backends; a plain OkHttp client with the scenario's
 * timeout sends the traffic to {@code /proxy/replay/work}. The same scenario file serves both
 * paths.
 *
 * <p>The proxy's config, key by key: the strategy; {@code hashKey: header:X-Replay-Key}; {@code
 * healthCheck} with path {@code /health} and the scenario's interval, timeout, rise and fall (1/1
 * without hysteresis); {@code outlierDetection} and {@code outlier} (activeCheckEndsEjection, or
 * one failure for a fixed 1 s without hysteresis); {@code upstream.maxRetries} the run's; {@code
 * upstream.connectTimeout} the client's timeout; one connection per concurrent call at most. The
 * proxy's request timeout stays its default (30 s): the client gives up first, as in the anchors'
 * experiments. What the proxy's config cannot say is refused before the first run ({@link #check}):
 * {@code hashBalanceFactor} and {@code retryBudget: false}. The proxy's balancer is not seeded (the
 * proxy has no key for it): its picks differ between repeats where the client's do not.
 */
final class EdgePath implements TrafficPath {

  /** The pool the scenario's backends form in the proxy. */
  static final String POOL = "replay";

  private final EdgeProxy edge;
  private final LoadBalancer balancer;
  private final OkHttpClient http;

  private EdgePath(EdgeProxy edge, LoadBalancer balancer, OkHttpClient http) {
    this.edge = edge;
    this.balancer = balancer;
    this.http = http;
  }

  /**
   * Refuses a scenario whose runs need what the proxy's config has no key for.
   *
   * @throws IllegalArgumentException naming the run and the setting
   */
  static void check(Scenario scenario) {
    for (Scenario.Run run : scenario.runs()) {
      int factor =
          run.hashBalanceFactor() != null
              ? run.hashBalanceFactor()
              : scenario.client().hashBalanceFactor();
      String label = scenario.name() + ": run '" + run.label(scenario.client()) + "'";
      if (factor > 0) {
        throw new IllegalArgumentException(
            label + ": hashBalanceFactor has no key in the edge proxy's config; use --via okhttp");
      }
      if (!run.retryBudget()) {
        throw new IllegalArgumentException(
            label + ": retryBudget: false has no key in the edge proxy's config; use --via okhttp");
      }
    }
  }

  static EdgePath open(
      Scenario scenario,
      Scenario.Run run,
      List<Endpoint> endpoints,
      RunRecorder recorder,
      long startNanos,
      ExecutorService calls)
      throws InterruptedException {
    String yaml = config(scenario, run, endpoints);
    EdgeProxy edge;
    try {
      edge = EdgeProxy.start(ConfigFiles.parse(yaml, "replay-edge.yaml", Map.of()));
    } catch (InvalidConfigException e) {
      throw new IllegalArgumentException("the edge config for " + scenario.name() + ": " + e, e);
    }
    LoadBalancer balancer = edge.balancer(POOL);
    balancer.addListener(TrafficPath.transitions(recorder, startNanos));
    TrafficPath.observeAttempts(balancer, recorder, startNanos);
    OkHttpClient http =
        TrafficPath.client(scenario.client(), scenario.traffic().concurrency(), calls).build();
    return new EdgePath(edge, balancer, http);
  }

  /** The proxy's YAML for {@code run} of {@code scenario}. */
  static String config(Scenario scenario, Scenario.Run run, List<Endpoint> endpoints) {
    Scenario.Client client = scenario.client();
    StringBuilder y = new StringBuilder();
    y.append("server: {bind: 127.0.0.1, port: 0, workers: 2}\n");
    y.append("admin: {port: 0}\n");
    y.append("upstream: {connectTimeout: ")
        .append(millis(client.timeout()))
        .append(", maxRetries: ")
        .append(run.retries(client))
        .append(", maxConnectionsPerEndpoint: ")
        .append(scenario.traffic().concurrency())
        .append("}\n");
    y.append("pools:\n  ").append(POOL).append(":\n");
    y.append("    strategy: ").append(run.strategy()).append('\n');
    y.append("    hashKey: \"header:").append(ReplayRunner.KEY_HEADER).append("\"\n");
    Scenario.HealthCheckSettings hc = client.healthCheck();
    if (hc != null) {
      y.append("    healthCheck: {path: /health, interval: ")
          .append(millis(hc.interval()))
          .append(", timeout: ")
          .append(millis(hc.timeout()))
          .append(", rise: ")
          .append(run.hysteresis() ? hc.rise() : 1)
          .append(", fall: ")
          .append(run.hysteresis() ? hc.fall() : 1)
          .append("}\n");
    }
    boolean outliers =
        run.outlierDetection() != null ? run.outlierDetection() : client.outlierDetection();
    y.append("    outlierDetection: ").append(outliers).append('\n');
    if (outliers) {
      String ejection = millis(OkHttpPath.NO_DAMPING_EJECTION);
      y.append(
          run.hysteresis()
              ? "    outlier: {activeCheckEndsEjection: " + run.activeCheckEndsEjection() + "}\n"
              : "    outlier: {consecutiveFailures: 1, baseEjectionTime: "
                  + ejection
                  + ", maxEjectionTime: "
                  + ejection
                  + ", ejectionJitter: 0}\n");
    }
    y.append("    endpoints:\n");
    for (Endpoint e : endpoints) {
      y.append("      - {id: ")
          .append(e.id())
          .append(", host: ")
          .append(e.host())
          .append(", port: ")
          .append(e.port())
          .append("}\n");
    }
    return y.toString();
  }

  private static String millis(Duration d) {
    return d.toMillis() + "ms";
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
    return "http://127.0.0.1:" + edge.proxyPort() + "/proxy/" + POOL + "/work?key=" + key;
  }

  @Override
  public void close() {
    http.dispatcher().cancelAll();
    http.connectionPool().evictAll();
    edge.close();
  }
}
