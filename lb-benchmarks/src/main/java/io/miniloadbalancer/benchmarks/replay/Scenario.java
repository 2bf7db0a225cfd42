package io.miniloadbalancer.benchmarks.replay;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.miniloadbalancer.core.Strategies;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A replay scenario as read from YAML: backends, traffic, client settings, a fault timeline, and
 * the runs to compare (one per strategy or feature variant). Every record checks its own fields in
 * its constructor and names the key in the message; {@link ScenarioLoader} adds the file and line.
 * Checks across sections (a fault naming a backend that does not exist) are in {@link
 * ScenarioLoader}.
 *
 * @param name shown in the report
 * @param seed seeds every random choice (latencies, errors, arrivals, keys, the balancer's picks)
 * @param duration how long each run offers traffic
 * @param backends backend groups; ids are {@code b0}, {@code b1}, ... in order
 * @param traffic the offered load
 * @param client the balancer and OkHttp settings every run starts from
 * @param faults what happens to which backend when, the same in every run
 * @param runs the strategies and variants to compare
 */
public record Scenario(
    String name,
    long seed,
    Duration duration,
    List<BackendGroup> backends,
    Traffic traffic,
    Client client,
    List<Fault> faults,
    List<Run> runs) {

  /** Checks the fields that need no other section. */
  public Scenario {
    requireText(name, "name");
    requirePositive(duration, "duration");
    if (duration.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new IllegalArgumentException(
          "duration must be at most 10m (one run per strategy), was " + duration);
    }
    backends = List.copyOf(requireNonNull(backends, "backends"));
    if (backends.isEmpty()) {
      throw new IllegalArgumentException("backends: at least one backend group is needed");
    }
    requireNonNull(traffic, "traffic");
    client = client == null ? Client.DEFAULTS : client;
    faults = faults == null ? List.of() : List.copyOf(faults);
    runs = List.copyOf(requireNonNull(runs, "runs"));
    if (runs.isEmpty()) {
      throw new IllegalArgumentException("runs: at least one run is needed");
    }
  }

  /** How many backends all groups hold together. */
  public int backendCount() {
    int n = 0;
    for (BackendGroup g : backends) {
      n += g.count();
    }
    return n;
  }

  /** The id of the {@code index}-th backend: {@code b0}, {@code b1}, ... */
  public static String backendId(int index) {
    return "b" + index;
  }

  /** The latency profile of backend {@code index}. */
  public BackendGroup group(int index) {
    int seen = 0;
    for (BackendGroup g : backends) {
      seen += g.count();
      if (index < seen) {
        return g;
      }
    }
    throw new IndexOutOfBoundsException("no backend " + index + " of " + seen);
  }

  /** This scenario with only the runs whose strategy is in {@code strategies}. */
  public Scenario onlyStrategies(List<String> strategies) {
    List<Run> kept = runs.stream().filter(r -> strategies.contains(r.strategy())).toList();
    if (kept.isEmpty()) {
      throw new IllegalArgumentException(
          "scenario '" + name + "' has no run with strategy " + strategies);
    }
    return new Scenario(name, seed, duration, backends, traffic, client, faults, kept);
  }

  /**
   * Backends sharing one behaviour.
   *
   * @param count how many (default 1)
   * @param latency service time of each request
   * @param errorRate share of requests answered 500, in [0, 1] (default 0)
   */
  public record BackendGroup(Integer count, Latency latency, Double errorRate) {
    /** Applies defaults and checks ranges. */
    public BackendGroup {
      count = count == null ? 1 : count;
      if (count < 1 || count > 100) {
        throw new IllegalArgumentException("count must be in 1..100, was " + count);
      }
      requireNonNull(latency, "latency");
      errorRate = errorRate == null ? 0.0 : errorRate;
      requireFraction(errorRate, "errorRate");
    }
  }

  /**
   * A log-normal service time given by its median and 99th percentile (the two numbers people
   * quote); equal values give a constant. Log-normal because measured service times are skewed to
   * the right with a long tail, and two quantiles pin it down.
   *
   * @param median the 50th percentile
   * @param p99 the 99th percentile, at least the median
   */
  public record Latency(Duration median, Duration p99) {
    /** Checks that the tail is not below the median. */
    public Latency {
      requireNonNull(median, "median");
      requireNonNull(p99, "p99");
      if (median.isNegative() || median.compareTo(Duration.ofSeconds(60)) > 0) {
        throw new IllegalArgumentException("median must be in 0..60s, was " + median);
      }
      if (p99.compareTo(median) < 0) {
        throw new IllegalArgumentException(
            "p99 (" + p99 + ") must not be below median (" + median + ")");
      }
    }
  }

  /**
   * The offered load: open loop, so a slow backend does not slow the arrivals.
   *
   * @param rate requests per second (Poisson arrivals)
   * @param concurrency at most this many requests in flight; an arrival beyond it is shed and
   *     counted as a failure (the client would have had to queue or refuse it)
   * @param keys the request keys (for hash strategies)
   */
  public record Traffic(Integer rate, Integer concurrency, Keys keys) {
    /** Applies defaults and checks ranges. */
    public Traffic {
      requireNonNull(rate, "rate");
      if (rate < 1 || rate > 5000) {
        throw new IllegalArgumentException("rate must be in 1..5000 requests/s, was " + rate);
      }
      concurrency = concurrency == null ? 256 : concurrency;
      if (concurrency < 1 || concurrency > 2000) {
        throw new IllegalArgumentException("concurrency must be in 1..2000, was " + concurrency);
      }
      keys = keys == null ? new Keys(null, null, null) : keys;
    }
  }

  /**
   * How request keys are drawn.
   *
   * @param distribution {@code uniform} (default) or {@code zipf}
   * @param count how many distinct keys (default 10,000)
   * @param exponent the Zipf exponent (default 1.0; ignored for uniform)
   */
  public record Keys(@Nullable String distribution, Integer count, Double exponent) {
    /** Applies defaults and checks ranges. */
    public Keys {
      distribution = distribution == null ? "uniform" : distribution.toLowerCase(Locale.ROOT);
      if (!distribution.equals("uniform") && !distribution.equals("zipf")) {
        throw new IllegalArgumentException(
            "distribution must be uniform or zipf, was '" + distribution + "'");
      }
      count = count == null ? 10_000 : count;
      if (count < 1) {
        throw new IllegalArgumentException("count must be at least 1, was " + count);
      }
      exponent = exponent == null ? 1.0 : exponent;
      if (!(exponent > 0) || exponent > 5) {
        throw new IllegalArgumentException("exponent must be in (0, 5], was " + exponent);
      }
    }

    /** Whether keys follow Zipf's law. */
    public boolean zipf() {
      return distribution.equals("zipf");
    }
  }

  /**
   * The balancer and OkHttp settings every run starts from.
   *
   * @param timeout OkHttp's call timeout: the whole call, retries included (default 1 s)
   * @param maxRetries retries per idempotent request on another endpoint (default 1, lb-core's)
   * @param healthCheck active HTTP checks of {@code /health}; absent: none
   * @param outlierDetection passive outlier detection with lb-core's defaults (default true)
   * @param hashBalanceFactor bounded load for hash strategies in percent, 0 = off (default 0)
   */
  public record Client(
      Duration timeout,
      Integer maxRetries,
      @Nullable HealthCheckSettings healthCheck,
      Boolean outlierDetection,
      Integer hashBalanceFactor) {

    static final Client DEFAULTS = new Client(null, null, null, null, null);

    /** Applies defaults and checks ranges. */
    public Client {
      timeout = timeout == null ? Duration.ofSeconds(1) : timeout;
      requirePositive(timeout, "timeout");
      maxRetries = maxRetries == null ? 1 : maxRetries;
      if (maxRetries < 0 || maxRetries > 5) {
        throw new IllegalArgumentException("maxRetries must be in 0..5, was " + maxRetries);
      }
      outlierDetection = outlierDetection == null ? Boolean.TRUE : outlierDetection;
      hashBalanceFactor = hashBalanceFactor == null ? 0 : hashBalanceFactor;
      requireBalanceFactor(hashBalanceFactor);
    }
  }

  /**
   * Active health checks against each backend's {@code /health}.
   *
   * @param interval between probes (default 1 s: a replay lasts a minute, lb-core's 2 s would leave
   *     few probes per fault)
   * @param timeout per probe (default 500 ms, half the interval)
   * @param rise passing probes to come back (default 2, HAProxy's)
   * @param fall failed probes to go down (default 3, HAProxy's)
   */
  public record HealthCheckSettings(
      Duration interval, Duration timeout, Integer rise, Integer fall) {
    /** Applies defaults and checks ranges. */
    public HealthCheckSettings {
      interval = interval == null ? Duration.ofSeconds(1) : interval;
      requirePositive(interval, "interval");
      timeout = timeout == null ? Duration.ofMillis(500) : timeout;
      requirePositive(timeout, "timeout");
      rise = rise == null ? 2 : rise;
      fall = fall == null ? 3 : fall;
      if (rise < 1 || fall < 1) {
        throw new IllegalArgumentException(
            "rise and fall must be at least 1, were " + rise + " and " + fall);
      }
    }
  }

  /** What a fault does to its backend. */
  public enum Action {
    /** Closes the listening socket and every connection (port unbound), until {@code revive}. */
    KILL,
    /** Binds the port again after a kill. */
    REVIVE,
    /** Replaces the backend's latency with {@code latency} for {@code for}. */
    SLOW,
    /** Answers {@code rate} of requests with 503 for {@code for} (a 5xx burst). */
    ERRORS,
    /** Kills and revives the backend every {@code period} for {@code for}. */
    FLAP,
    /** The client drains the endpoint (an operator's action) for {@code for}, then undrains it. */
    DRAIN
  }

  /**
   * One entry of the fault timeline.
   *
   * @param at when, from the start of the run
   * @param backend which backend ({@code b0} ...)
   * @param action what happens
   * @param duration {@code for:} how long (slow, errors, flap, drain)
   * @param latency the slow latency (slow)
   * @param rate share of requests failed (errors; default 1.0)
   * @param period time between toggles (flap)
   */
  public record Fault(
      Duration at,
      String backend,
      Action action,
      @JsonProperty("for") @Nullable Duration duration,
      @Nullable Latency latency,
      Double rate,
      @Nullable Duration period) {

    /** Checks the fields each action needs. */
    public Fault {
      requireNonNull(at, "at");
      if (at.isNegative()) {
        throw new IllegalArgumentException("at must not be negative, was " + at);
      }
      requireText(backend, "backend");
      requireNonNull(action, "action");
      boolean needsDuration =
          action == Action.SLOW
              || action == Action.ERRORS
              || action == Action.FLAP
              || action == Action.DRAIN;
      if (needsDuration) {
        if (duration == null) {
          throw new IllegalArgumentException(
              "for: required for " + action.name().toLowerCase(Locale.ROOT));
        }
        requirePositive(duration, "for");
      } else if (duration != null) {
        throw new IllegalArgumentException(
            "for: not used by " + action.name().toLowerCase(Locale.ROOT) + " (use revive)");
      }
      if (action == Action.SLOW && latency == null) {
        throw new IllegalArgumentException("latency: required for slow");
      }
      rate = rate == null ? 1.0 : rate;
      requireFraction(rate, "rate");
      if (action == Action.FLAP) {
        if (period == null) {
          throw new IllegalArgumentException("period: required for flap");
        }
        if (period.compareTo(Duration.ofMillis(50)) < 0) {
          throw new IllegalArgumentException("period must be at least 50ms, was " + period);
        }
      }
    }

    /** When the fault's effect ends, or null for kill and revive. */
    public @Nullable Duration end() {
      return duration == null ? null : at.plus(duration);
    }

    /** A short label for charts: {@code kill b0}. */
    public String label() {
      return action.name().toLowerCase(Locale.ROOT) + " " + backend;
    }
  }

  /**
   * One run of the scenario: a strategy, optionally with features off.
   *
   * @param strategy an lb-core strategy name
   * @param hysteresis false: health rise/fall 1/1 and outlier ejection after 1 failure for a fixed
   *     short time (default true: the scenario's settings)
   * @param retryBudget false: a budget so large it never binds (default true: lb-core's)
   * @param outlierDetection overrides the client's setting for this run
   * @param hashBalanceFactor overrides the client's bounded-load factor for this run
   * @param maxRetries overrides the client's retries per request for this run
   * @param activeCheckEndsEjection whether a passing active probe ends an ejection early (default
   *     true, lb-core's and Envoy's); false keeps an ejected endpoint out for its whole, growing
   *     ejection time
   */
  public record Run(
      String strategy,
      Boolean hysteresis,
      Boolean retryBudget,
      @Nullable Boolean outlierDetection,
      @Nullable Integer hashBalanceFactor,
      @Nullable Integer maxRetries,
      Boolean activeCheckEndsEjection) {

    /** Applies defaults and checks the strategy name. */
    public Run {
      requireText(strategy, "strategy");
      if (!Strategies.isKnown(strategy)) {
        throw new IllegalArgumentException("strategy: " + Strategies.unknownMessage(strategy));
      }
      hysteresis = hysteresis == null ? Boolean.TRUE : hysteresis;
      retryBudget = retryBudget == null ? Boolean.TRUE : retryBudget;
      activeCheckEndsEjection =
          activeCheckEndsEjection == null ? Boolean.TRUE : activeCheckEndsEjection;
      if (hashBalanceFactor != null) {
        requireBalanceFactor(hashBalanceFactor);
      }
      if (maxRetries != null && (maxRetries < 0 || maxRetries > 5)) {
        throw new IllegalArgumentException("maxRetries must be in 0..5, was " + maxRetries);
      }
    }

    /** The retries per request of this run. */
    public int retries(Client client) {
      return maxRetries != null ? maxRetries : client.maxRetries();
    }

    /** A label naming the strategy and what differs from the defaults. */
    public String label(Client client) {
      StringBuilder s = new StringBuilder(strategy);
      int factor = hashBalanceFactor != null ? hashBalanceFactor : client.hashBalanceFactor();
      if (factor > 0
          && (strategy.equals(Strategies.RING_HASH) || strategy.equals(Strategies.MAGLEV))) {
        s.append(" bounded ").append(factor).append('%');
      }
      if (!hysteresis) {
        s.append(" no-hysteresis");
      }
      if (!retryBudget) {
        s.append(" no-retry-budget");
      }
      if (outlierDetection != null && outlierDetection != client.outlierDetection()) {
        s.append(outlierDetection ? " +outlier" : " no-outlier");
      }
      if (!activeCheckEndsEjection) {
        s.append(" full-ejections");
      }
      if (retries(client) != client.maxRetries()) {
        s.append(" retries=").append(retries(client));
      }
      return s.toString();
    }
  }

  private static void requireText(@Nullable String value, String key) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(key + ": required");
    }
  }

  private static void requirePositive(@Nullable Duration d, String key) {
    if (d == null) {
      throw new IllegalArgumentException(key + ": required");
    }
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(key + " must be positive, was " + d);
    }
  }

  private static void requireFraction(double value, String key) {
    if (!(value >= 0 && value <= 1)) {
      throw new IllegalArgumentException(key + " must be in [0, 1], was " + value);
    }
  }

  private static void requireBalanceFactor(int factor) {
    if (factor != 0 && (factor < 101 || factor > 1000)) {
      throw new IllegalArgumentException(
          "hashBalanceFactor must be 0 (off) or in 101..1000 percent, was " + factor);
    }
  }
}
