package io.miniloadbalancer.benchmarks.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.benchmarks.replay.RunRecorder.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short seeded scenario, end to end on real sockets: five backends, one slowed to 1 s for 4 s
 * while the client gives up after 300 ms. Round-robin keeps sending it a fifth of the traffic, so
 * about a fifth of the requests in those 4 s time out (about 13% of the run); p2c-ewma learns
 * within the first timeouts and routes around it. The margins are wide (tens of points, a factor on
 * p99) so scheduling noise on a busy 2-core machine cannot flip them.
 */
class ReplayRankingTest {

  private static final String SCENARIO =
      """
      name: ranking
      seed: 17
      duration: 6s
      backends:
        - count: 5
          latency: {median: 2ms, p99: 10ms}
      traffic:
        rate: 150
        concurrency: 256
      client:
        timeout: 300ms
        maxRetries: 1
        outlierDetection: false
      faults:
        - {at: 1s, backend: b2, action: slow, for: 4s, latency: {median: 1s, p99: 1s}}
      runs:
        - {strategy: round-robin}
        - {strategy: p2c-ewma}
      """;

  private static Scenario scenario;
  private static RunResult roundRobin;
  private static RunResult p2cEwma;

  @BeforeAll
  static void run() throws Exception {
    System.setProperty("java.awt.headless", "true");
    scenario = new ScenarioLoader().load(SCENARIO, "ranking.yaml");
    ReplayRunner runner = new ReplayRunner(scenario);
    roundRobin = runner.run(scenario.runs().get(0), null);
    p2cEwma = runner.run(scenario.runs().get(1), null);
  }

  @Test
  void p2cEwmaBeatsRoundRobinOnSuccessRate() {
    assertThat(roundRobin.successPercent()).isLessThan(96.0);
    assertThat(p2cEwma.successPercent()).isGreaterThan(98.0);
    assertThat(p2cEwma.successPercent() - roundRobin.successPercent()).isGreaterThan(4.0);
    // The failures round-robin pays are the slow backend's timeouts.
    assertThat(roundRobin.count(Result.TIMEOUT))
        .isGreaterThan(roundRobin.offered() - roundRobin.succeeded() - 5);
  }

  @Test
  void p2cEwmaBeatsRoundRobinOnTailLatency() {
    // Round-robin's p99 is the 300 ms timeout; p2c-ewma's is a healthy backend's tail.
    assertThat(roundRobin.percentileMillis(99)).isGreaterThan(250.0);
    assertThat(p2cEwma.percentileMillis(99)).isLessThan(roundRobin.percentileMillis(99) / 2);
  }

  @Test
  void p2cEwmaSendsTheSlowBackendLessThanItsShare() {
    double rrShare = roundRobin.loadSharePercent()[2];
    double ewmaShare = p2cEwma.loadSharePercent()[2];
    assertThat(rrShare).isBetween(15.0, 25.0);
    assertThat(ewmaShare).isLessThan(rrShare / 2);
  }

  @Test
  void bothRunsSawTheSameOfferedLoad() {
    // Same seed, open loop: the arrivals do not depend on the strategy.
    assertThat(p2cEwma.offered()).isEqualTo(roundRobin.offered());
    assertThat(roundRobin.seconds()).hasSize(6);
  }

  @Test
  void reportHasEveryFileAndAnOfflinePage(@TempDir Path dir) throws Exception {
    Path html = new ReportWriter(dir).write(scenario, SCENARIO, List.of(roundRobin, p2cEwma));

    String page = Files.readString(html);
    assertThat(page)
        .contains("<td>round-robin</td>", "<td>p2c-ewma</td>", "data:image/png;base64,")
        .doesNotContain("http://", "https://", "<script");
    assertThat(Files.readAllLines(dir.resolve("timeseries.csv"))).hasSize(1 + 2 * 6);
    assertThat(Files.readString(dir.resolve("summary.md"))).contains("| p2c-ewma | ");
    assertThat(ImageIO.read(dir.resolve("success.png").toFile()).getWidth()).isEqualTo(960);
    assertThat(dir.resolve("load-share.png")).exists();
    assertThat(dir.resolve("transitions.csv")).exists();
  }
}
