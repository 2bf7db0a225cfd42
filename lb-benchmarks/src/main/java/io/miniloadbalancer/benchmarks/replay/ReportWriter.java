package io.miniloadbalancer.benchmarks.replay;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;

/**
 * Writes a scenario's report directory: {@code timeseries.csv} (one row per run and second), {@code
 * summary.csv} and {@code summary.md} (one row per run), {@code transitions.csv}, the charts as PNG
 * files, and {@code report.html}, one page with the tables and the charts embedded (base64), so it
 * opens offline and can be mailed as one file.
 *
 * <p>Charts are drawn by XChart: success rate over time for every run, p99 over time for every run,
 * p50 / p99 / p99.9 over time for each run, all with the faults marked; and each backend's share of
 * the load per run.
 */
public final class ReportWriter {

  private static final int WIDTH = 960;
  private static final int HEIGHT = 380;

  private final Path dir;

  /** A writer into {@code dir} (created when missing). */
  public ReportWriter(Path dir) {
    this.dir = dir;
  }

  /** Writes every file of the report; returns the HTML page's path. */
  public Path write(Scenario scenario, String scenarioText, List<RunResult> runs)
      throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("timeseries.csv"), timeseriesCsv(scenario, runs));
    Files.writeString(dir.resolve("summary.csv"), summaryCsv(runs));
    Files.writeString(dir.resolve("summary.md"), summaryMarkdown(runs));
    Files.writeString(dir.resolve("transitions.csv"), transitionsCsv(runs));
    Map<String, byte[]> charts = new LinkedHashMap<>();
    charts.put("success.png", png(successChart(scenario, runs)));
    charts.put("p99.png", png(p99Chart(scenario, runs)));
    for (int i = 0; i < runs.size(); i++) {
      charts.put("latency-" + (i + 1) + ".png", png(latencyChart(scenario, runs.get(i))));
    }
    charts.put("load-share.png", png(loadShareChart(scenario, runs)));
    for (Map.Entry<String, byte[]> c : charts.entrySet()) {
      Files.write(dir.resolve(c.getKey()), c.getValue());
    }
    Path html = dir.resolve("report.html");
    Files.writeString(html, html(scenario, scenarioText, runs, charts));
    return html;
  }

  static String timeseriesCsv(Scenario scenario, List<RunResult> runs) {
    StringBuilder s = new StringBuilder("run,second,offered,succeeded,success_pct");
    for (RunRecorder.Result r : RunRecorder.Result.values()) {
      s.append(',').append(r.name().toLowerCase(Locale.ROOT));
    }
    s.append(",p50_ms,p99_ms,p999_ms,retries,budget_refusals,attempts");
    for (int b = 0; b < scenario.backendCount(); b++) {
      s.append(',').append(Scenario.backendId(b)).append("_requests");
    }
    s.append('\n');
    for (RunResult run : runs) {
      for (RunResult.Second row : run.seconds()) {
        s.append(csv(run.label()))
            .append(',')
            .append(row.second())
            .append(',')
            .append(row.offered())
            .append(',')
            .append(row.succeeded())
            .append(',')
            .append(num(row.successPercent(), 3));
        for (long n : row.results()) {
          s.append(',').append(n);
        }
        s.append(',')
            .append(num(row.p50Millis(), 2))
            .append(',')
            .append(num(row.p99Millis(), 2))
            .append(',')
            .append(num(row.p999Millis(), 2))
            .append(',')
            .append(row.retries())
            .append(',')
            .append(row.budgetExhausted())
            .append(',')
            .append(row.attempts());
        for (long n : row.backendRequests()) {
          s.append(',').append(n);
        }
        s.append('\n');
      }
    }
    return s.toString();
  }

  static String summaryCsv(List<RunResult> runs) {
    StringBuilder s =
        new StringBuilder(
            "run,requests,success_pct,p50_ms,p99_ms,p999_ms,retries,budget_exhausted,shed,max_over_mean_load,state_changes,errors_after_fault_s,load_share_pct,attempts,worst_attempt_ratio,windows_over_attempt_bound\n");
    for (RunResult r : runs) {
      s.append(csv(r.label()))
          .append(',')
          .append(r.offered())
          .append(',')
          .append(num(r.successPercent(), 3))
          .append(',')
          .append(num(r.percentileMillis(50), 2))
          .append(',')
          .append(num(r.percentileMillis(99), 2))
          .append(',')
          .append(num(r.percentileMillis(99.9), 2))
          .append(',')
          .append(r.retries())
          .append(',')
          .append(r.budgetExhausted())
          .append(',')
          .append(r.count(RunRecorder.Result.SHED))
          .append(',')
          .append(num(r.maxOverMeanLoad(), 3))
          .append(',')
          .append(r.stateChanges())
          .append(',')
          .append(csv(recoveries(r)))
          .append(',')
          .append(csv(shares(r)))
          .append("," + r.attempts() + "," + num(r.worstAttemptRatio(), 3))
          .append("," + r.windowsOverAttemptBound() + "\n");
    }
    return s.toString();
  }

  /** The summary as a Markdown table (what the README shows). */
  static String summaryMarkdown(List<RunResult> runs) {
    StringBuilder s =
        new StringBuilder(
            "| run | requests | success % | p50 ms | p99 ms | p99.9 ms | retries |"
                + " budget exhausted | errors until (s after fault) | max/mean load |"
                + " state changes | attempts/requests, worst 1 s | 1 s windows over 1.2x+10 |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|\n");
    for (RunResult r : runs) {
      s.append("| ")
          .append(r.label())
          .append(" | ")
          .append(r.offered())
          .append(" | ")
          .append(num(r.successPercent(), 3))
          .append(" | ")
          .append(num(r.percentileMillis(50), 1))
          .append(" | ")
          .append(num(r.percentileMillis(99), 1))
          .append(" | ")
          .append(num(r.percentileMillis(99.9), 1))
          .append(" | ")
          .append(r.retries())
          .append(" | ")
          .append(r.budgetExhausted())
          .append(" | ")
          .append(recoveries(r))
          .append(" | ")
          .append(num(r.maxOverMeanLoad(), 2))
          .append(" | ")
          .append(r.stateChanges())
          .append(" | " + num(r.worstAttemptRatio(), 2) + " | " + r.windowsOverAttemptBound())
          .append(" |\n");
    }
    return s.toString();
  }

  static String transitionsCsv(List<RunResult> runs) {
    StringBuilder s = new StringBuilder("run,at_s,endpoint,from,to,cause,reason\n");
    for (RunResult r : runs) {
      for (RunResult.TransitionAt t : r.transitions()) {
        s.append(csv(r.label()))
            .append(',')
            .append(num(t.atSeconds(), 3))
            .append(',')
            .append(t.transition().endpointId())
            .append(',')
            .append(t.transition().from() == null ? "" : t.transition().from())
            .append(',')
            .append(t.transition().to())
            .append(',')
            .append(t.transition().cause())
            .append(',')
            .append(csv(t.transition().reason()))
            .append('\n');
      }
    }
    return s.toString();
  }

  private static String recoveries(RunResult r) {
    List<String> parts = new ArrayList<>();
    for (RunResult.Recovery rec : r.recoveries()) {
      parts.add(
          rec.fault().label()
              + " @"
              + seconds(rec.fault().at().toMillis())
              + ": "
              + num(rec.lastErrorSeconds(), 2));
    }
    return parts.isEmpty() ? "-" : String.join("; ", parts);
  }

  private static String shares(RunResult r) {
    List<String> parts = new ArrayList<>();
    for (double share : r.loadSharePercent()) {
      parts.add(num(share, 1));
    }
    return String.join("/", parts);
  }

  private static XYChart successChart(Scenario scenario, List<RunResult> runs) {
    XYChart chart = xyChart(scenario.name() + ": success rate per second", "success %");
    for (RunResult r : runs) {
      addSeries(chart, r.label(), r, RunResult.Second::successPercent);
    }
    markFaults(chart, scenario);
    return chart;
  }

  private static XYChart p99Chart(Scenario scenario, List<RunResult> runs) {
    XYChart chart = xyChart(scenario.name() + ": p99 latency per second", "p99 ms (log)");
    chart.getStyler().setYAxisLogarithmic(true);
    for (RunResult r : runs) {
      addSeries(chart, r.label(), r, RunResult.Second::p99Millis);
    }
    markFaults(chart, scenario);
    return chart;
  }

  private static XYChart latencyChart(Scenario scenario, RunResult r) {
    XYChart chart =
        xyChart(scenario.name() + " / " + r.label() + ": latency per second", "ms (log)");
    chart.getStyler().setYAxisLogarithmic(true);
    addSeries(chart, "p50", r, RunResult.Second::p50Millis);
    addSeries(chart, "p99", r, RunResult.Second::p99Millis);
    addSeries(chart, "p99.9", r, RunResult.Second::p999Millis);
    markFaults(chart, scenario);
    return chart;
  }

  private static CategoryChart loadShareChart(Scenario scenario, List<RunResult> runs) {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(scenario.name() + ": share of backend requests (retries included)")
            .xAxisTitle("backend")
            .yAxisTitle("share %")
            .build();
    style(chart.getStyler());
    List<String> ids = new ArrayList<>();
    for (int b = 0; b < scenario.backendCount(); b++) {
      ids.add(Scenario.backendId(b));
    }
    for (RunResult r : runs) {
      List<Double> shares = new ArrayList<>();
      for (double share : r.loadSharePercent()) {
        shares.add(share);
      }
      chart.addSeries(r.label(), ids, shares);
    }
    return chart;
  }

  private static XYChart xyChart(String title, String yTitle) {
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title)
            .xAxisTitle("second of the run")
            .yAxisTitle(yTitle)
            .build();
    style(chart.getStyler());
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    chart.getStyler().setMarkerSize(0);
    chart.getStyler().setXAxisMin(0.0);
    return chart;
  }

  private static void style(Styler styler) {
    styler.setLegendPosition(Styler.LegendPosition.OutsideS);
    styler.setChartBackgroundColor(java.awt.Color.WHITE);
  }

  private static void addSeries(
      XYChart chart, String name, RunResult r, ToDoubleFunction<RunResult.Second> column) {
    List<Double> xs = new ArrayList<>();
    List<Double> ys = new ArrayList<>();
    for (RunResult.Second s : r.seconds()) {
      double y = column.applyAsDouble(s);
      // A second without requests has no value; leave it out rather than draw a zero.
      if (!Double.isNaN(y)) {
        xs.add(s.second() + 0.5);
        ys.add(Math.max(y, chart.getStyler().isYAxisLogarithmic() ? 0.01 : y));
      }
    }
    if (xs.isEmpty()) {
      xs.add(0.0);
      ys.add(chart.getStyler().isYAxisLogarithmic() ? 0.01 : 0.0);
    }
    chart.addSeries(name, xs, ys);
  }

  /**
   * A vertical line at every fault's start (and at the end of timed ones); the x-axis title says
   * which fault each line is (XChart's text annotations would collide when faults are close).
   */
  private static void markFaults(XYChart chart, Scenario scenario) {
    List<String> names = new ArrayList<>();
    for (Scenario.Fault f : scenario.faults()) {
      chart.addAnnotation(new AnnotationLine(f.at().toMillis() / 1000.0, true, false));
      String name = f.label() + " @" + seconds(f.at().toMillis());
      if (f.end() != null) {
        chart.addAnnotation(new AnnotationLine(f.end().toMillis() / 1000.0, true, false));
        name += "-" + seconds(f.end().toMillis());
      }
      names.add(name);
    }
    if (!names.isEmpty()) {
      chart.setXAxisTitle("second of the run; lines: " + String.join(", ", names));
    }
  }

  private static byte[] png(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart)
      throws IOException {
    return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
  }

  private static String html(
      Scenario scenario, String scenarioText, List<RunResult> runs, Map<String, byte[]> charts) {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<title>Replay: ")
        .append(esc(scenario.name()))
        .append("</title>")
        .append("<style>body{font-family:sans-serif;margin:2em;max-width:1100px}")
        .append("table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #bbb;")
        .append(
            "padding:3px" + " 6px;text-align:right}td:first-child,th:first-child{text-align:left}")
        .append("pre{background:#f4f4f4;padding:1em;overflow:auto}img{max-width:100%}</style>")
        .append("</head><body>\n");
    h.append("<h1>Replay: ").append(esc(scenario.name())).append("</h1>\n");
    h.append("<p>")
        .append(scenario.backendCount())
        .append(" backends, ")
        .append(scenario.traffic().rate())
        .append(" requests/s for ")
        .append(scenario.duration().toSeconds())
        .append(" s per run, seed ")
        .append(scenario.seed())
        .append(", client timeout ")
        .append(scenario.client().timeout().toMillis())
        .append(" ms. Latency percentiles cover")
        .append(
            " every request, failures at the time they took; success counts" + " 2xx-4xx.</p>\n");
    h.append("<h2>Summary</h2>\n<table><tr><th>run</th><th>requests</th><th>success %</th>")
        .append("<th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>retries</th>")
        .append("<th>budget exhausted</th><th>shed</th><th>errors until (s after" + " fault)</th>")
        .append("<th>max/mean load</th><th>state changes</th></tr>\n");
    for (RunResult r : runs) {
      h.append("<tr><td>")
          .append(esc(r.label()))
          .append("</td><td>")
          .append(r.offered())
          .append("</td><td>")
          .append(num(r.successPercent(), 3))
          .append("</td><td>")
          .append(num(r.percentileMillis(50), 1))
          .append("</td><td>")
          .append(num(r.percentileMillis(99), 1))
          .append("</td><td>")
          .append(num(r.percentileMillis(99.9), 1))
          .append("</td><td>")
          .append(r.retries())
          .append("</td><td>")
          .append(r.budgetExhausted())
          .append("</td><td>")
          .append(r.count(RunRecorder.Result.SHED))
          .append("</td><td>")
          .append(esc(recoveries(r)))
          .append("</td><td>")
          .append(num(r.maxOverMeanLoad(), 2))
          .append("</td><td>")
          .append(r.stateChanges())
          .append("</td></tr>\n");
    }
    h.append("</table>\n<h3>Failures by kind</h3>\n<table><tr><th>run</th>");
    for (RunRecorder.Result kind : RunRecorder.Result.values()) {
      h.append("<th>").append(kind.name().toLowerCase(Locale.ROOT)).append("</th>");
    }
    h.append("</tr>\n");
    for (RunResult r : runs) {
      h.append("<tr><td>").append(esc(r.label())).append("</td>");
      for (RunRecorder.Result kind : RunRecorder.Result.values()) {
        h.append("<td>").append(r.count(kind)).append("</td>");
      }
      h.append("</tr>\n");
    }
    h.append("</table>\n<h3>Load share per backend (%)</h3>\n<table><tr><th>run</th>");
    for (int b = 0; b < scenario.backendCount(); b++) {
      h.append("<th>").append(Scenario.backendId(b)).append("</th>");
    }
    h.append("</tr>\n");
    for (RunResult r : runs) {
      h.append("<tr><td>").append(esc(r.label())).append("</td>");
      for (double share : r.loadSharePercent()) {
        h.append("<td>").append(num(share, 1)).append("</td>");
      }
      h.append("</tr>\n");
    }
    h.append(
        "</table>\n"
            + "<h2>Charts</h2>\n"
            + "<p>Vertical lines mark each fault's start (and end).</p>\n");
    for (Map.Entry<String, byte[]> c : charts.entrySet()) {
      h.append("<p><img alt=\"")
          .append(esc(c.getKey()))
          .append("\" src=\"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(c.getValue()))
          .append("\"></p>\n");
    }
    h.append("<h2>State transitions</h2>\n");
    for (RunResult r : runs) {
      h.append("<details><summary>")
          .append(esc(r.label()))
          .append(": ")
          .append(r.stateChanges())
          .append(" transitions</summary><pre>");
      for (RunResult.TransitionAt t : r.transitions()) {
        h.append(num(t.atSeconds(), 3))
            .append(" s  ")
            .append(esc(t.transition().endpointId()))
            .append(' ')
            .append(t.transition().from())
            .append(" -> ")
            .append(t.transition().to())
            .append("  ")
            .append(esc(t.transition().reason()))
            .append('\n');
      }
      h.append("</pre></details>\n");
    }
    h.append("<h2>Scenario</h2>\n<pre>").append(esc(scenarioText)).append("</pre>\n");
    h.append("<p>Files beside this page: timeseries.csv, summary.csv, summary.md,")
        .append(" transitions.csv, the PNG charts.</p>\n</body></html>\n");
    return h.toString();
  }

  private static String seconds(long millis) {
    return millis % 1000 == 0 ? (millis / 1000) + "s" : millis + "ms";
  }

  static String num(double value, int decimals) {
    return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%." + decimals + "f", value);
  }

  private static String csv(String value) {
    return value.contains(",") || value.contains("\"") || value.contains("\n")
        ? "\"" + value.replace("\"", "\"\"") + "\""
        : value;
  }

  private static String esc(String value) {
    return value
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
