package io.miniloadbalancer.benchmarks.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.config.EdgeConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The replay through the edge proxy ({@code --via edge}): the proxy's config says what the
 * scenario's client says, a short run's traffic goes through the proxy (its balancer counts the
 * attempts and grants the retries), and what the proxy cannot express is refused up front.
 */
class ReplayViaEdgeTest {

  private static final String SCENARIO =
      """
      name: via-edge
      seed: 4
      duration: 3s
      backends:
        - count: 3
          latency: {median: 1ms, p99: 5ms}
      traffic:
        rate: 150
      client:
        timeout: 500ms
        maxRetries: 1
        healthCheck: {interval: 700ms, timeout: 300ms, rise: 3, fall: 4}
        outlierDetection: false
      faults:
        - {at: 1s, backend: b1, action: errors, for: 1s, rate: 1.0}
      runs:
        - {strategy: least-connections}
        - {strategy: p2c-ewma, hysteresis: false, outlierDetection: true}
      """;

  private static Scenario scenario() throws Exception {
    return new ScenarioLoader().load(SCENARIO, "via-edge.yaml");
  }

  @Test
  void theProxysPoolSaysWhatTheScenarioSays() throws Exception {
    Scenario s = scenario();
    List<Endpoint> endpoints =
        List.of(Endpoint.of("b0", "127.0.0.1", 7001), Endpoint.of("b1", "127.0.0.1", 7002));
    EdgeConfig first =
        ConfigFiles.parse(EdgePath.config(s, s.runs().get(0), endpoints), "t.yaml", Map.of());
    EdgeConfig.Pool p = first.pools().get(EdgePath.POOL);
    assertThat(p.strategy()).isEqualTo("least-connections");
    assertThat(p.endpoints())
        .extracting(EdgeConfig.StaticEndpoint::port)
        .containsExactly(7001, 7002);
    assertThat(p.activeHealthCheck().toHealthCheck("/").rise()).isEqualTo(3);
    assertThat(p.activeHealthCheck().toHealthCheck("/").fall()).isEqualTo(4);
    assertThat(p.activeHealthCheck().interval()).isEqualTo(Duration.ofMillis(700));
    assertThat(p.outlierDetection()).isFalse();
    assertThat(first.upstream().maxRetries()).isEqualTo(1);
    assertThat(p.hashKey()).isEqualTo("header:" + ReplayRunner.KEY_HEADER);

    EdgeConfig second =
        ConfigFiles.parse(EdgePath.config(s, s.runs().get(1), endpoints), "t.yaml", Map.of());
    EdgeConfig.Pool q = second.pools().get(EdgePath.POOL);
    assertThat(q.activeHealthCheck().toHealthCheck("/").rise()).isEqualTo(1);
    assertThat(q.outlierDetection()).isTrue();
    assertThat(q.outlier().toOutlierDetection().consecutiveFailures()).isEqualTo(1);
    assertThat(q.outlier().toOutlierDetection().maxEjectionTime())
        .isEqualTo(OkHttpPath.NO_DAMPING_EJECTION);
  }

  @Test
  void aShortRunGoesThroughTheProxyWithRetriesAndAttemptsCounted() throws Exception {
    Scenario s = scenario();
    RunResult r = new ReplayRunner(s, TrafficPath.Via.EDGE).run(s.runs().get(0), null);
    assertThat(r.offered()).isGreaterThan(300);
    // b1's 503 burst (second 1) is retried by the proxy on another backend, as far as the
    // burst-free budget allows (20% of arriving requests + a reserve of 10/s + one carried).
    RunResult.Second burst = r.seconds().get(1);
    assertThat(burst.retries()).isPositive();
    assertThat(burst.retries()).isLessThanOrEqualTo(burst.offered() / 5 + 11);
    assertThat(burst.successPercent()).isGreaterThan(70.0);
    // Every request is at least one attempt; the burst's retries are attempts too.
    for (RunResult.Second sec : r.seconds()) {
      assertThat(sec.attempts()).isGreaterThanOrEqualTo(sec.succeeded() - 5);
    }
    // Attempts are first tries plus retries (leases end within milliseconds of their second).
    assertThat(burst.attempts()).isCloseTo(burst.offered() + burst.retries(), within(15L));
    assertThat(r.seconds().get(0).attempts()).isCloseTo(r.seconds().get(0).offered(), within(15L));
    assertThat(r.seconds().get(0).backendRequests()).doesNotContain(0L);
  }

  @Test
  void whatTheProxyCannotSayIsRefusedBeforeAnyRun() throws Exception {
    Scenario s =
        new ScenarioLoader()
            .load(
                SCENARIO.replace(
                    "- {strategy: least-connections}",
                    "- {strategy: round-robin, retryBudget: false}"),
                "via-edge.yaml");
    assertThatThrownBy(() -> EdgePath.check(s))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("retryBudget")
        .hasMessageContaining("--via okhttp");
    assertThatThrownBy(() -> TrafficPath.Via.parse("nginx"))
        .hasMessageContaining("--via must be okhttp or edge");
  }
}
