package io.miniloadbalancer.benchmarks.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.miniloadbalancer.benchmarks.replay.RunRecorder.Result;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.Transition;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunRecorderTest {

  private static final long MS = 1_000_000L;
  private static final long S = 1_000_000_000L;

  private static Scenario.Fault fault(int atSeconds, Scenario.Action action) {
    return new Scenario.Fault(Duration.ofSeconds(atSeconds), "b0", action, null, null, null, null);
  }

  @Test
  void bucketsByScheduledArrivalAndCountsEachKind() {
    RunRecorder recorder = new RunRecorder(3);
    for (int i = 0; i < 98; i++) {
      recorder.record(i * 10 * MS, 5 * MS, Result.OK);
    }
    recorder.record(990 * MS, 1_000 * MS, Result.TIMEOUT); // ends in second 1, due in second 0
    recorder.record(995 * MS, 0, Result.SHED);
    recorder.record(S + 1, 2 * MS, Result.HTTP_5XX);
    recorder.record(2 * S + 1, 3 * MS, Result.OK);
    recorder.record(5 * S, 3 * MS, Result.OK); // after the run: ignored

    RunResult r = recorder.finish("rr", new long[][] {{50, 1, 1}, {50, 0, 0}}, List.of());

    RunResult.Second first = r.seconds().get(0);
    assertThat(first.offered()).isEqualTo(100);
    assertThat(first.succeeded()).isEqualTo(98);
    assertThat(first.count(Result.TIMEOUT)).isEqualTo(1);
    assertThat(first.count(Result.SHED)).isEqualTo(1);
    assertThat(first.successPercent()).isEqualTo(98.0);
    assertThat(r.seconds().get(1).count(Result.HTTP_5XX)).isEqualTo(1);
    assertThat(r.offered()).isEqualTo(102);
    assertThat(r.succeeded()).isEqualTo(99);
    assertThat(r.successPercent()).isCloseTo(100.0 * 99 / 102, within(1e-9));
  }

  @Test
  void percentilesComeFromTheRecordedLatencies() {
    RunRecorder recorder = new RunRecorder(2);
    // 1000 requests in second 0: 1 ms .. 1000 ms; the shed one has no latency.
    for (int i = 1; i <= 1000; i++) {
      recorder.record(i * 100_000L, i * MS, Result.OK);
    }
    recorder.record(S - 1, 0, Result.SHED);

    RunResult r = recorder.finish("x", new long[0][], List.of());

    assertThat(r.percentileMillis(50)).isCloseTo(500, within(1.0));
    assertThat(r.percentileMillis(99)).isCloseTo(990, within(1.0));
    assertThat(r.percentileMillis(99.9)).isCloseTo(999, within(1.0));
    // Per second: 2 significant digits, so within 1%.
    assertThat(r.seconds().get(0).p99Millis()).isCloseTo(990, within(10.0));
    assertThat(r.seconds().get(1).p99Millis()).isNaN();
    assertThat(r.seconds().get(1).successPercent()).isNaN();
  }

  @Test
  void retryCountersBecomePerSecondIncrements() {
    RunRecorder recorder = new RunRecorder(4);
    recorder.sampleSecond(0, 3, 0);
    recorder.sampleSecond(1, 10, 2);
    // second 2 missed its sample (a late timer): it shows zero, second 3 the whole increment
    recorder.sampleSecond(3, 12, 2);

    RunResult r = recorder.finish("x", new long[0][], List.of());

    assertThat(r.seconds()).extracting(RunResult.Second::retries).containsExactly(3L, 7L, 0L, 2L);
    assertThat(r.seconds())
        .extracting(RunResult.Second::budgetExhausted)
        .containsExactly(0L, 2L, 0L, 0L);
    assertThat(r.retries()).isEqualTo(12);
    assertThat(r.budgetExhausted()).isEqualTo(2);
  }

  @Test
  void recoveryIsTheLastErrorBeforeTheNextFault() {
    RunRecorder recorder = new RunRecorder(10);
    // kill at 2 s: errors until 3.455 s; revive at 5 s (not a fault of its own); a burst at 6 s
    // with no error.
    recorder.record(2 * S + 100 * MS, 1 * MS, Result.IO_ERROR);
    recorder.record(3 * S + 450 * MS, 1 * MS, Result.IO_ERROR);
    recorder.record(4 * S, 1 * MS, Result.OK);
    recorder.record(1 * S, 1 * MS, Result.IO_ERROR); // before the fault: not counted
    List<Scenario.Fault> faults =
        List.of(
            fault(2, Scenario.Action.KILL),
            fault(5, Scenario.Action.REVIVE),
            new Scenario.Fault(
                Duration.ofSeconds(6),
                "b0",
                Scenario.Action.ERRORS,
                Duration.ofSeconds(1),
                null,
                1.0,
                null));

    RunResult r = recorder.finish("x", new long[0][], faults);

    assertThat(r.recoveries()).hasSize(2);
    assertThat(r.recoveries().get(0).fault().action()).isEqualTo(Scenario.Action.KILL);
    assertThat(r.recoveries().get(0).lastErrorSeconds()).isCloseTo(1.46, within(1e-9));
    assertThat(r.recoveries().get(1).lastErrorSeconds()).isZero();
  }

  @Test
  void loadShareAndMaxOverMean() {
    RunRecorder recorder = new RunRecorder(2);
    long[][] perBackend = {{30, 30}, {10, 10}, {10, 10}, {0, 0}};

    RunResult r = recorder.finish("x", perBackend, List.of());

    assertThat(r.backendTotals()).containsExactly(60, 20, 20, 0);
    assertThat(r.loadSharePercent()).containsExactly(60.0, 20.0, 20.0, 0.0);
    assertThat(r.maxOverMeanLoad()).isCloseTo(2.4, within(1e-9));
  }

  @Test
  void transitionsKeepTheirOrderAndTime() {
    RunRecorder recorder = new RunRecorder(1);
    Transition t =
        new Transition(
            "b1",
            EndpointState.HEALTHY,
            EndpointState.EJECTED,
            Transition.Cause.OUTLIER,
            "5 consecutive failures",
            0,
            Instant.EPOCH);
    recorder.transition(1_500 * MS, t);

    RunResult r = recorder.finish("x", new long[0][], List.of());

    assertThat(r.transitions())
        .singleElement()
        .satisfies(
            at -> {
              assertThat(at.atSeconds()).isEqualTo(1.5);
              assertThat(at.transition()).isEqualTo(t);
            });
  }

  @Test
  void attemptsPerWindowAgainstTheBound() {
    RunRecorder recorder = new RunRecorder(2);
    for (int i = 0; i < 100; i++) {
      recorder.record(i * 10 * MS, 5 * MS, Result.OK);
      recorder.attempt(i * 10 * MS + 5 * MS);
    }
    // Second 1: 50 requests, 80 attempts (1.6x > 1.2 x 50 + 10 = 70).
    for (int i = 0; i < 50; i++) {
      recorder.record(S + i * 10 * MS, 5 * MS, Result.OK);
    }
    for (int i = 0; i < 80; i++) {
      recorder.attempt(S + i * 10 * MS);
    }
    recorder.attempt(5 * S); // outside the run: ignored
    RunResult r = recorder.finish("r", new long[0][2], List.of());
    assertThat(r.seconds().get(0).attempts()).isEqualTo(100);
    assertThat(r.seconds().get(1).attempts()).isEqualTo(80);
    assertThat(r.attempts()).isEqualTo(180);
    assertThat(r.windowsOverAttemptBound()).isEqualTo(1);
    assertThat(r.worstAttemptRatio()).isEqualTo(1.6);
    assertThat(ReportWriter.summaryCsv(List.of(r))).endsWith(",180,1.600,1\n");
    assertThat(ReportWriter.summaryMarkdown(List.of(r))).contains("| 1.60 | 1 |");
  }
}
