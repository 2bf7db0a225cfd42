package io.miniloadbalancer.benchmarks.replay;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The traffic replay tool: runs each scenario once per configured strategy (and variant) through
 * the real lb-okhttp client against real loopback backends, and writes a report directory per
 * scenario.
 *
 * <pre>{@code
 * mvn -q -pl lb-benchmarks -am package -DskipTests
 * java -cp lb-benchmarks/target/benchmarks.jar \
 *     io.miniloadbalancer.benchmarks.replay.ReplayCommand lb-benchmarks/scenarios/slow.yaml
 * }</pre>
 *
 * <p>Exit codes: 0 done, 2 a scenario file is invalid (the message names the file, line and key), 1
 * a run failed.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
      "Replays scenario files (YAML) against real loopback backends, once per strategy,"
          + " through the lb-okhttp client, and writes a report per scenario: timeseries.csv,"
          + " summary.csv/.md, transitions.csv, PNG charts and report.html (opens offline)."
    })
public final class ReplayCommand implements Callable<Integer> {

  @Parameters(arity = "1..*", paramLabel = "SCENARIO", description = "Scenario YAML files.")
  private List<Path> scenarios = new ArrayList<>();

  @Option(
      names = {"-o", "--out"},
      defaultValue = "lb-benchmarks/target/replay",
      description =
          "Report root; each scenario writes to <out>/<name>/ (default:" + " ${DEFAULT-VALUE}).")
  private Path out = Path.of("lb-benchmarks/target/replay");

  @Option(
      names = "--strategies",
      split = ",",
      description = "Only the runs with these strategies (default: every run of the scenario).")
  private List<String> strategies = new ArrayList<>();

  @Option(names = "--seed", description = "Overrides the scenario's seed.")
  private Long seed;

  @Option(
      names = "--via",
      defaultValue = "okhttp",
      description =
          "okhttp: lb-core inside the client, through lb-okhttp's interceptor; edge: the edge"
              + " proxy started in this process with an equivalent pool, a plain client in front"
              + " (default: ${DEFAULT-VALUE}).")
  private String via = "okhttp";

  @Option(names = "--no-progress", description = "No progress bar (for logs and CI).")
  private boolean noProgress;

  @Spec private CommandLine.Model.CommandSpec spec;

  /** Runs the tool; exits with its exit code. */
  public static void main(String[] args) {
    // lb-core logs through SLF4J; only warnings should interleave with the progress bar.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.setProperty("java.awt.headless", "true");
    System.exit(new CommandLine(new ReplayCommand()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter outWriter = spec.commandLine().getOut();
    ScenarioLoader loader = new ScenarioLoader();
    TrafficPath.Via path;
    try {
      path = TrafficPath.Via.parse(via);
    } catch (IllegalArgumentException e) {
      err.println("replay: " + e.getMessage());
      return 2;
    }
    List<Scenario> loaded = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    // Every file is checked before the first run starts: a typo in the fourth file should not
    // cost the three minutes of the first three.
    for (Path file : scenarios) {
      try {
        Scenario s = loader.load(file);
        if (!strategies.isEmpty()) {
          s = s.onlyStrategies(strategies);
        }
        if (seed != null) {
          s =
              new Scenario(
                  s.name(),
                  seed,
                  s.duration(),
                  s.backends(),
                  s.traffic(),
                  s.client(),
                  s.faults(),
                  s.runs());
        }
        if (path == TrafficPath.Via.EDGE) {
          EdgePath.check(s);
        }
        loaded.add(s);
        texts.add(Files.readString(file));
      } catch (ScenarioLoader.ScenarioException | IllegalArgumentException e) {
        err.println("replay: " + e.getMessage());
        return 2;
      }
    }
    for (int i = 0; i < loaded.size(); i++) {
      Scenario scenario = loaded.get(i);
      ReplayRunner runner = new ReplayRunner(scenario, path);
      List<RunResult> results = new ArrayList<>();
      for (Scenario.Run run : scenario.runs()) {
        String label = scenario.name() + ": " + run.label(scenario.client()) + " via " + via.trim();
        long expected = (long) scenario.traffic().rate() * scenario.duration().toSeconds();
        if (noProgress) {
          outWriter.println("running " + label);
          outWriter.flush();
          results.add(runner.run(run, null));
        } else {
          try (ProgressBar bar =
              new ProgressBarBuilder()
                  .setTaskName(label)
                  .setInitialMax(expected)
                  .setStyle(ProgressBarStyle.ASCII)
                  .setUpdateIntervalMillis(250)
                  .setUnit(" req", 1)
                  .build()) {
            results.add(runner.run(run, bar));
          }
        }
        RunResult r = results.get(results.size() - 1);
        outWriter.printf(
            Locale.ROOT,
            "  %-40s success %.3f%%  p99 %.1f ms  retries %d  worst attempts/requests %.2f%n",
            r.label(),
            r.successPercent(),
            r.percentileMillis(99),
            r.retries(),
            r.worstAttemptRatio());
        outWriter.flush();
      }
      Path dir =
          out.resolve(
              path == TrafficPath.Via.OKHTTP ? scenario.name() : scenario.name() + "-via-edge");
      Path html = new ReportWriter(dir).write(scenario, texts.get(i), results);
      outWriter.println();
      outWriter.print(ReportWriter.summaryMarkdown(results));
      outWriter.println("report: " + html.toAbsolutePath());
      outWriter.flush();
    }
    return 0;
  }
}
