package io.miniloadbalancer.benchmarks.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ScenarioLoaderTest {

  private final ScenarioLoader loader = new ScenarioLoader();

  private static final String VALID =
      """
      name: t
      seed: 9
      duration: 20s
      backends:
        - count: 2
          latency: {median: 5ms, p99: 20ms}
        - latency: {median: 1s, p99: 1s}
          errorRate: 0.1
      traffic:
        rate: 100
        keys: {distribution: zipf, count: 50, exponent: 1.2}
      client:
        timeout: 800ms
        healthCheck: {interval: 2s}
      faults:
        - {at: 5s, backend: b2, action: slow, for: 3s, latency: {median: 2s, p99: 2s}}
        - {at: 6s, backend: b0, action: kill}
        - {at: 7s, backend: b0, action: revive}
        - {at: 8s, backend: b1, action: errors, for: 2s, rate: 0.5}
        - {at: 9s, backend: b1, action: flap, for: 4s, period: 300ms}
        - {at: 10s, backend: b2, action: drain, for: 2s}
      runs:
        - {strategy: round-robin}
        - {strategy: maglev, hashBalanceFactor: 125, hysteresis: false, retryBudget: false, maxRetries: 0}
      """;

  @Test
  void readsEverySectionAndAppliesDefaults() throws Exception {
    Scenario s = loader.load(VALID, "t.yaml");

    assertThat(s.backendCount()).isEqualTo(3);
    assertThat(s.group(2).latency().median()).isEqualTo(Duration.ofSeconds(1));
    assertThat(s.group(2).errorRate()).isEqualTo(0.1);
    assertThat(s.group(0).errorRate()).isZero();
    assertThat(s.traffic().concurrency()).isEqualTo(256);
    assertThat(s.traffic().keys().zipf()).isTrue();
    assertThat(s.client().timeout()).isEqualTo(Duration.ofMillis(800));
    assertThat(s.client().maxRetries()).isEqualTo(1);
    assertThat(s.client().healthCheck().rise()).isEqualTo(2);
    assertThat(s.client().healthCheck().fall()).isEqualTo(3);
    assertThat(s.faults())
        .extracting(Scenario.Fault::action)
        .containsExactly(
            Scenario.Action.SLOW,
            Scenario.Action.KILL,
            Scenario.Action.REVIVE,
            Scenario.Action.ERRORS,
            Scenario.Action.FLAP,
            Scenario.Action.DRAIN);
    assertThat(s.faults().get(3).rate()).isEqualTo(0.5);
    assertThat(s.faults().get(1).rate()).isEqualTo(1.0);
    assertThat(s.runs().get(1).label(s.client()))
        .isEqualTo("maglev bounded 125% no-hysteresis no-retry-budget retries=0");
    assertThat(s.runs().get(0).retries(s.client())).isEqualTo(1);
    assertThat(s.runs().get(1).retries(s.client())).isZero();
  }

  @Test
  void everyShippedScenarioLoads() throws IOException {
    List<Path> files;
    try (Stream<Path> list = Files.list(Path.of("scenarios"))) {
      files = list.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files)
        .extracting(p -> p.getFileName().toString())
        .containsExactly(
            "client-timeout.yaml",
            "crash.yaml",
            "flap.yaml",
            "outage.yaml",
            "skew.yaml",
            "slow.yaml");
    for (Path f : files) {
      assertThat(load(f).runs()).as(f.toString()).isNotEmpty();
    }
  }

  private Scenario load(Path f) {
    try {
      return loader.load(f);
    } catch (ScenarioLoader.ScenarioException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  @Test
  void unknownKeyIsNamedWithItsLine() {
    assertError(
        VALID.replace("  rate: 100", "  rate: 100\n  burst: 3"), "t.yaml line 11: traffic.burst: ");
  }

  @Test
  void missingDurationOfASlowdownIsNamed() {
    assertError(
        VALID.replace("action: slow, for: 3s,", "action: slow,"),
        "t.yaml line 16: faults[0].for: required for slow");
  }

  @Test
  void badDurationIsNamed() {
    assertError(
        VALID.replace("timeout: 800ms", "timeout: 800 millis"),
        "t.yaml line 13: client.timeout: '800 millis' is not a duration like 500ms, 20s,"
            + " 5m or 1h (digits and a unit, no sign)");
  }

  @Test
  void rangeErrorsNameTheField() {
    assertError(
        VALID.replace("errorRate: 0.1", "errorRate: 1.5"),
        "t.yaml line 8: backends[1].errorRate: must be in [0, 1], was 1.5");
    assertError(
        VALID.replace("rate: 100", "rate: 0"),
        "traffic.rate: must be in 1..5000 requests/s, was 0");
  }

  @Test
  void faultOnAMissingBackendIsNamedWithItsLine() {
    assertError(
        VALID.replace("backend: b0, action: kill", "backend: b7, action: kill"),
        "t.yaml line 17, column 14: faults[1].backend: no backend 'b7'; this scenario has"
            + " b0..b2");
  }

  @Test
  void faultAfterTheEndIsRefused() {
    assertError(
        VALID.replace("at: 10s", "at: 20s"),
        "t.yaml line 21, column 6: faults[5].at: must be before the end of the run");
  }

  @Test
  void unknownStrategyAndActionAreNamed() {
    assertError(
        VALID.replace("strategy: round-robin", "strategy: fastest"),
        "runs[0].strategy: unknown strategy 'fastest'; valid strategies: round-robin");
    assertError(
        VALID.replace("action: kill", "action: nuke"),
        "line 17, column 27: faults[1].action: 'nuke' is not one of kill, revive, slow,"
            + " errors, flap, drain");
  }

  @Test
  void aQuotedNumberIsRefused() {
    assertError(
        VALID.replace("rate: 100", "rate: \"100\""),
        "t.yaml line 10: traffic.rate: expected a whole number, was \"100\"");
  }

  @Test
  void flapNeedsAPeriod() {
    assertError(VALID.replace(", period: 300ms", ""), "faults[4].period: required for flap");
  }

  @Test
  void killTakesNoDuration() {
    assertError(
        VALID.replace("action: kill}", "action: kill, for: 2s}"),
        "faults[1].for: not used by kill (use revive)");
  }

  @Test
  void p99BelowMedianIsRefused() {
    assertError(
        VALID.replace("{median: 5ms, p99: 20ms}", "{median: 5ms, p99: 2ms}"),
        "backends[0].latency: p99 (PT0.002S) must not be below median (PT0.005S)");
  }

  private void assertError(String yaml, String expected) {
    assertThatThrownBy(() -> loader.load(yaml, "t.yaml"))
        .isInstanceOf(ScenarioLoader.ScenarioException.class)
        .hasMessageContaining(expected);
  }
}
