package io.miniloadbalancer.benchmarks.replay;

import io.miniloadbalancer.core.Transition;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.Histogram;

/**
 * Collects one run's measurements into per-second buckets, keyed by each request's scheduled
 * arrival (open-loop: a request that waited is charged to the second it was due, so a stall cannot
 * hide its victims), and hands them over as a {@link RunResult}.
 *
 * <p>Latencies go into one HdrHistogram per second plus one for the run, in microseconds up to 2
 * minutes (3 significant digits for the run, 2 for each second: 1% is plenty for a chart and keeps
 * a two-minute run's histograms small). Every finished request is recorded, failures included at
 * the time they took to fail (a timed-out request counts as its timeout): the percentiles are what
 * the caller waited. Shed requests (over the concurrency bound) have no latency.
 *
 * <p>Thread safety: {@link #record} is called from OkHttp's callback threads; counters are atomic
 * and each histogram is guarded by its own lock (a few hundred records per second, uncontended in
 * practice). {@link #sampleSecond} and {@link #transition} come from the run's sampler and the
 * balancer's control context.
 */
final class RunRecorder {

  /** How a request ended. */
  enum Result {
    /** A 2xx-4xx answer. */
    OK,
    /** A 5xx answer after the retries the client allowed. */
    HTTP_5XX,
    /** The call timeout fired. */
    TIMEOUT,
    /** Connection refused or reset after the retries the client allowed. */
    IO_ERROR,
    /** The balancer had no routable endpoint. */
    NO_ENDPOINT,
    /** A retry was wanted but the retry budget refused it. */
    BUDGET_EXHAUSTED,
    /** Over the concurrency bound: never sent. */
    SHED
  }

  static final long HIGHEST_MICROS = 120_000_000L;

  /** Resolution of the error timeline that "time to no more errors" is read from. */
  static final long ERROR_SLOT_NANOS = 10_000_000L;

  private final int seconds;
  private final AtomicLongArray offered;
  private final AtomicLongArray succeeded;
  private final AtomicLongArray[] byResult;
  private final Histogram[] latency;
  private final Histogram total = histogram();
  private final AtomicLongArray errorSlots;
  private final long[] retriesGranted;
  private final long[] retriesRefused;
  private final AtomicLongArray attempts;
  private final List<RunResult.TransitionAt> transitions = new ArrayList<>();

  /** A recorder for a run of {@code seconds} seconds. */
  RunRecorder(int seconds) {
    this.seconds = seconds;
    this.offered = new AtomicLongArray(seconds);
    this.succeeded = new AtomicLongArray(seconds);
    this.byResult = new AtomicLongArray[Result.values().length];
    for (int i = 0; i < byResult.length; i++) {
      byResult[i] = new AtomicLongArray(seconds);
    }
    this.latency = new Histogram[seconds];
    for (int i = 0; i < seconds; i++) {
      latency[i] = new Histogram(HIGHEST_MICROS, 2);
    }
    this.errorSlots = new AtomicLongArray((int) (seconds * 1_000_000_000L / ERROR_SLOT_NANOS));
    this.retriesGranted = new long[seconds];
    this.retriesRefused = new long[seconds];
    this.attempts = new AtomicLongArray(seconds);
  }

  private static Histogram histogram() {
    return new Histogram(HIGHEST_MICROS, 3);
  }

  /**
   * Records one request.
   *
   * @param arrivalNanos its scheduled arrival, from the run's start
   * @param latencyNanos from the scheduled arrival to its end (ignored for {@link Result#SHED})
   * @param result how it ended
   */
  void record(long arrivalNanos, long latencyNanos, Result result) {
    int second = (int) (arrivalNanos / 1_000_000_000L);
    if (second < 0 || second >= seconds) {
      return;
    }
    offered.incrementAndGet(second);
    byResult[result.ordinal()].incrementAndGet(second);
    if (result == Result.OK) {
      succeeded.incrementAndGet(second);
    } else {
      errorSlots.incrementAndGet((int) (arrivalNanos / ERROR_SLOT_NANOS));
    }
    if (result != Result.SHED) {
      long micros = Math.max(1, Math.min(latencyNanos / 1_000, HIGHEST_MICROS));
      Histogram h = latency[second];
      synchronized (h) {
        h.recordValue(micros);
      }
      synchronized (total) {
        total.recordValue(micros);
      }
    }
  }

  /**
   * Records one attempt (a lease of the balancer ended: a first try or a retry) at {@code atNanos}
   * from the run's start.
   */
  void attempt(long atNanos) {
    int second = (int) (atNanos / 1_000_000_000L);
    if (second >= 0 && second < seconds) {
      attempts.incrementAndGet(second);
    }
  }

  /**
   * Stores the balancer's cumulative retry counters as seen at the end of {@code second}; the
   * result turns them into per-second increments.
   */
  synchronized void sampleSecond(int second, long granted, long refused) {
    if (second >= 0 && second < seconds) {
      retriesGranted[second] = granted;
      retriesRefused[second] = refused;
    }
  }

  /** Records an endpoint transition seen {@code atNanos} after the run's start. */
  synchronized void transition(long atNanos, Transition t) {
    transitions.add(new RunResult.TransitionAt(atNanos / 1e9, t));
  }

  /**
   * The run's result.
   *
   * @param label the run's label
   * @param backendRequests per backend, per second: requests the backend received (retries
   *     included)
   * @param faults the scenario's fault timeline, to measure recovery against
   */
  synchronized RunResult finish(
      String label, long[][] backendRequests, List<Scenario.Fault> faults) {
    List<RunResult.Second> rows = new ArrayList<>(seconds);
    long prevGranted = 0;
    long prevRefused = 0;
    for (int s = 0; s < seconds; s++) {
      long[] results = new long[byResult.length];
      for (int r = 0; r < results.length; r++) {
        results[r] = byResult[r].get(s);
      }
      long granted = Math.max(retriesGranted[s], prevGranted);
      long refused = Math.max(retriesRefused[s], prevRefused);
      Histogram h = latency[s];
      long[] perBackend = new long[backendRequests.length];
      for (int b = 0; b < perBackend.length; b++) {
        perBackend[b] = backendRequests[b][s];
      }
      synchronized (h) {
        rows.add(
            new RunResult.Second(
                s,
                offered.get(s),
                succeeded.get(s),
                results,
                percentileMillis(h, 50),
                percentileMillis(h, 99),
                percentileMillis(h, 99.9),
                granted - prevGranted,
                refused - prevRefused,
                perBackend,
                attempts.get(s)));
      }
      prevGranted = granted;
      prevRefused = refused;
    }
    long[] errors = new long[errorSlots.length()];
    for (int i = 0; i < errors.length; i++) {
      errors[i] = errorSlots.get(i);
    }
    Histogram copy;
    synchronized (total) {
      copy = total.copy();
    }
    return new RunResult(label, rows, copy, errors, List.copyOf(transitions), faults);
  }

  /** A percentile in milliseconds, or NaN when the second had no request. */
  static double percentileMillis(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
  }
}
