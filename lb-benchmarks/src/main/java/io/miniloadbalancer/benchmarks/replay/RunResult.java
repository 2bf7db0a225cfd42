package io.miniloadbalancer.benchmarks.replay;

import io.miniloadbalancer.core.Transition;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * What one run of a scenario measured: per-second rows, the run's latency histogram, transitions,
 * and the summary numbers derived from them. Immutable once built.
 *
 * @param label the run's label (strategy and variant)
 * @param seconds one row per second of the run
 * @param latency every finished request's latency in microseconds
 * @param errorSlots failed requests per 10 ms slot of scheduled arrival
 * @param transitions endpoint state transitions, in order
 * @param faults the fault timeline the run was exposed to
 */
public record RunResult(
    String label,
    List<Second> seconds,
    Histogram latency,
    long[] errorSlots,
    List<TransitionAt> transitions,
    List<Scenario.Fault> faults) {

  /**
   * One second of a run.
   *
   * @param second from the run's start
   * @param offered requests due in this second
   * @param succeeded of those, answered 2xx-4xx
   * @param results of those, how many ended each way (indexed by {@link RunRecorder.Result})
   * @param p50Millis latency percentiles of the requests due in this second (NaN: none)
   * @param p99Millis see p50Millis
   * @param p999Millis see p50Millis
   * @param retries retries the budget granted in this second
   * @param budgetExhausted retries the budget refused in this second
   * @param backendRequests requests each backend received in this second, retries included
   * @param attempts leases of the balancer begun in this second: first tries and retries,
   *     connection attempts that failed included (what a backend's listener never sees)
   */
  public record Second(
      int second,
      long offered,
      long succeeded,
      long[] results,
      double p50Millis,
      double p99Millis,
      double p999Millis,
      long retries,
      long budgetExhausted,
      long[] backendRequests,
      long attempts) {

    /** Succeeded / offered in percent, or NaN for a second without requests. */
    public double successPercent() {
      return offered == 0 ? Double.NaN : 100.0 * succeeded / offered;
    }

    /** Requests that ended as {@code result}. */
    public long count(RunRecorder.Result result) {
      return results[result.ordinal()];
    }
  }

  /**
   * A transition and when it happened.
   *
   * @param atSeconds from the run's start
   * @param transition what changed
   */
  public record TransitionAt(double atSeconds, Transition transition) {}

  /**
   * How long after a fault errors went on.
   *
   * @param fault the fault
   * @param lastErrorSeconds seconds from the fault to the end of the last 10 ms slot with a failed
   *     request, before the next fault; 0 when it caused none
   */
  public record Recovery(Scenario.Fault fault, double lastErrorSeconds) {}

  /**
   * State changes over the run: transitions except the initial "added by source" of each endpoint.
   */
  public long stateChanges() {
    return transitions.stream().filter(t -> t.transition().from() != null).count();
  }

  /** Requests offered over the run. */
  public long offered() {
    long n = 0;
    for (Second s : seconds) {
      n += s.offered();
    }
    return n;
  }

  /** Requests answered 2xx-4xx over the run. */
  public long succeeded() {
    long n = 0;
    for (Second s : seconds) {
      n += s.succeeded();
    }
    return n;
  }

  /** Requests that ended as {@code result} over the run. */
  public long count(RunRecorder.Result result) {
    long n = 0;
    for (Second s : seconds) {
      n += s.count(result);
    }
    return n;
  }

  /** Succeeded / offered in percent. */
  public double successPercent() {
    long offered = offered();
    return offered == 0 ? Double.NaN : 100.0 * succeeded() / offered;
  }

  /** A latency percentile of the whole run in milliseconds. */
  public double percentileMillis(double percentile) {
    return RunRecorder.percentileMillis(latency, percentile);
  }

  /** Attempts (first tries and retries) over the run. */
  public long attempts() {
    long n = 0;
    for (Second s : seconds) {
      n += s.attempts();
    }
    return n;
  }

  /**
   * The issue 15 bound on one 1 s window: attempts at most 1.2 x requests + 10 (Envoy's retry
   * budget shape: 20% of requests plus a floor), the requests being those due in the window.
   */
  static boolean withinAttemptBound(Second s) {
    return s.attempts() <= 1.2 * s.offered() + 10;
  }

  /** 1 s windows whose attempts exceed 1.2 x requests + 10. */
  public long windowsOverAttemptBound() {
    return seconds.stream().filter(s -> !withinAttemptBound(s)).count();
  }

  /** The highest attempts / requests of any 1 s window with requests (NaN: none). */
  public double worstAttemptRatio() {
    double worst = Double.NaN;
    for (Second s : seconds) {
      if (s.offered() > 0) {
        double r = (double) s.attempts() / s.offered();
        worst = Double.isNaN(worst) ? r : Math.max(worst, r);
      }
    }
    return worst;
  }

  /** Retries granted over the run. */
  public long retries() {
    long n = 0;
    for (Second s : seconds) {
      n += s.retries();
    }
    return n;
  }

  /** Retries refused by the budget over the run. */
  public long budgetExhausted() {
    long n = 0;
    for (Second s : seconds) {
      n += s.budgetExhausted();
    }
    return n;
  }

  /** Requests each backend received over the run, retries included. */
  public long[] backendTotals() {
    int backends = seconds.isEmpty() ? 0 : seconds.get(0).backendRequests().length;
    long[] totals = new long[backends];
    for (Second s : seconds) {
      for (int b = 0; b < backends; b++) {
        totals[b] += s.backendRequests()[b];
      }
    }
    return totals;
  }

  /** Each backend's share of all backend requests, in percent. */
  public double[] loadSharePercent() {
    long[] totals = backendTotals();
    long sum = Arrays.stream(totals).sum();
    double[] share = new double[totals.length];
    for (int b = 0; b < totals.length; b++) {
      share[b] = sum == 0 ? 0 : 100.0 * totals[b] / sum;
    }
    return share;
  }

  /**
   * The busiest backend's load over the mean load: 1.0 is perfectly even; for hash strategies under
   * skewed keys, what bounded load is for.
   */
  public double maxOverMeanLoad() {
    long[] totals = backendTotals();
    long sum = Arrays.stream(totals).sum();
    if (sum == 0) {
      return Double.NaN;
    }
    long max = Arrays.stream(totals).max().orElse(0);
    return max / ((double) sum / totals.length);
  }

  /**
   * For each fault but {@code revive} (which ends one), how long errors went on after it: the end
   * of the last failed request's 10 ms slot before the next fault (or the end of the run), minus
   * the fault's time.
   */
  public List<Recovery> recoveries() {
    List<Recovery> out = new ArrayList<>();
    List<Scenario.Fault> sorted =
        faults.stream().sorted((a, b) -> a.at().compareTo(b.at())).toList();
    long slot = RunRecorder.ERROR_SLOT_NANOS;
    for (int i = 0; i < sorted.size(); i++) {
      Scenario.Fault f = sorted.get(i);
      if (f.action() == Scenario.Action.REVIVE) {
        continue;
      }
      long fromSlot = f.at().toNanos() / slot;
      long toSlot = errorSlots.length;
      for (int j = i + 1; j < sorted.size(); j++) {
        if (sorted.get(j).at().compareTo(f.at()) > 0) {
          toSlot = Math.min(toSlot, sorted.get(j).at().toNanos() / slot);
          break;
        }
      }
      double last = 0;
      for (long k = Math.min(toSlot, errorSlots.length) - 1; k >= fromSlot; k--) {
        if (errorSlots[(int) k] > 0) {
          last = ((k + 1) * slot - f.at().toNanos()) / 1e9;
          break;
        }
      }
      out.add(new Recovery(f, last));
    }
    return out;
  }
}
