package io.miniloadbalancer.benchmarks.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.core.EndpointState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fault timeline end to end: a drain (the client's action) and a 5xx burst (the backend's),
 * seen in what the backends received and in lb-core's retry counters.
 */
class ReplayTimelineTest {

  private static final String SCENARIO =
      """
      name: timeline
      seed: 4
      duration: 4s
      backends:
        - count: 3
          latency: {median: 1ms, p99: 5ms}
      traffic:
        rate: 200
      client:
        timeout: 500ms
        maxRetries: 1
        outlierDetection: false
      faults:
        - {at: 1s, backend: b0, action: drain, for: 2s}
        - {at: 1s, backend: b1, action: errors, for: 1s, rate: 1.0}
      runs:
        - {strategy: round-robin}
      """;

  private static RunResult result;

  @BeforeAll
  static void run() throws Exception {
    Scenario scenario = new ScenarioLoader().load(SCENARIO, "timeline.yaml");
    result = new ReplayRunner(scenario).run(scenario.runs().get(0), null);
  }

  private static long requests(int backend, int second) {
    return result.seconds().get(second).backendRequests()[backend];
  }

  @Test
  void drainedBackendGetsNothingUntilUndrained() {
    assertThat(requests(0, 0)).isGreaterThan(40);
    // The drain lands on the control context a moment after 1 s: a handful may slip in.
    assertThat(requests(0, 1)).isLessThan(10);
    assertThat(requests(0, 2)).isZero();
    assertThat(requests(0, 3)).isGreaterThan(40);
    assertThat(result.transitions())
        .anySatisfy(
            t -> {
              assertThat(t.transition().endpointId()).isEqualTo("b0");
              assertThat(t.transition().to()).isEqualTo(EndpointState.DRAINING);
              assertThat(t.atSeconds()).isBetween(0.9, 1.5);
            });
  }

  @Test
  void burstFailuresAreRetriedOnTheOtherBackend() {
    RunResult.Second burst = result.seconds().get(1);
    // b1 answers 503 to everything for that second; round-robin still sends it half the
    // traffic, and its 503s are retried once on b2 as far as the retry budget allows: 20% of the
    // requests arriving now plus a reserve of 10/s (and one carried retry), never saved credit
    // spent in a burst (issue 15). So the budget is used, and bounded.
    assertThat(burst.retries()).isGreaterThan(burst.offered() / 10);
    assertThat(burst.retries()).isLessThanOrEqualTo(burst.offered() / 5 + 11);
    assertThat(requests(2, 1)).isGreaterThan(requests(2, 0) + burst.retries() / 2);
    assertThat(burst.successPercent()).isGreaterThan(60.0);
    assertThat(result.seconds().get(0).retries()).isZero();
    assertThat(result.seconds().get(3).retries()).isZero();
  }
}
