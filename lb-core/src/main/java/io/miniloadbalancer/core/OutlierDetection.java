package io.miniloadbalancer.core;

import java.time.Duration;

/**
 * Passive health: ejection of endpoints whose real requests fail, as a frozen copy made by {@link
 * Builder#build()}. Defaults follow Envoy and gRPC (see each setting).
 *
 * <p>An endpoint is ejected ({@link EndpointState#EJECTED}, breaker {@link BreakerState#OPEN})
 * after {@code consecutiveFailures} failed completions in a row, or when at least {@code
 * minRequests} completed in the last {@code interval} (a window sliding in fifths of it) and a
 * {@code failureRate} share of them failed. It stays out for {@code baseEjectionTime x ejections}
 * (capped at {@code maxEjectionTime}, stretched by up to {@code ejectionJitter}), then returns
 * half-open: at most {@code trialRequests} in flight; that many successes close the breaker, a
 * failure ejects it again for longer. The ejection count decays by one per clean interval.
 *
 * <p>A lease closed without an outcome ({@link Lease#close()}: the client gave up) after {@code
 * slowRequestThreshold} or longer counts as a failure for both rules: a client that waited that
 * long without an answer most likely waited on a stuck endpoint. A shorter cancellation is not a
 * failure (clients go away for their own reasons), though latency-aware strategies still take its
 * duration as a lower bound on the endpoint's latency. A lease that ends without an outcome for
 * reasons that are not the endpoint's (a finished WebSocket tunnel, a stream handed on) should end
 * with {@code complete(Outcome.CANCELLED, -1)}, which carries no time.
 *
 * <p>A passing active probe (when {@code activeCheckEndsEjection}) ends only a first ejection
 * early: an endpoint ejected again before its ejection count decayed is flapping, and runs its
 * ejection's full time. A one-off crash still comes back on its first passing probe.
 *
 * <p>Never more than {@code maxEjectionPercent} of the pool is ejected at once, except that one
 * endpoint may always be ejected in a pool of two or more (Envoy's floor): with 10% and 5
 * endpoints, 1 may be out. A pool of one is never ejected (it would only turn its errors into "no
 * endpoint" errors). In {@code dryRun}, would-be ejections are recorded as pool events and nothing
 * is ejected.
 */
public final class OutlierDetection {

  private final int consecutiveFailures;
  private final double failureRate;
  private final int minRequests;
  private final Duration interval;
  private final Duration baseEjectionTime;
  private final Duration maxEjectionTime;
  private final double ejectionJitter;
  private final int maxEjectionPercent;
  private final int trialRequests;
  private final Duration slowRequestThreshold;
  private final boolean activeCheckEndsEjection;
  private final boolean dryRun;

  private OutlierDetection(Builder b) {
    consecutiveFailures = b.consecutiveFailures;
    failureRate = b.failureRate;
    minRequests = b.minRequests;
    interval = b.interval;
    baseEjectionTime = b.baseEjectionTime;
    maxEjectionTime = b.maxEjectionTime;
    ejectionJitter = b.ejectionJitter;
    maxEjectionPercent = b.maxEjectionPercent;
    trialRequests = b.trialRequests;
    slowRequestThreshold = b.slowRequestThreshold;
    activeCheckEndsEjection = b.activeCheckEndsEjection;
    dryRun = b.dryRun;
  }

  /**
   * A builder with the defaults.
   *
   * @return a builder with the defaults
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Defaults only.
   *
   * @return defaults only
   */
  public static OutlierDetection defaults() {
    return builder().build();
  }

  /**
   * Failed completions in a row that eject; 0 disables this rule.
   *
   * @return failed completions in a row that eject; 0 disables this rule
   */
  public int consecutiveFailures() {
    return consecutiveFailures;
  }

  /**
   * Failure share over an interval that ejects; above 1 disables this rule.
   *
   * @return failure share over an interval that ejects; above 1 disables this rule
   */
  public double failureRate() {
    return failureRate;
  }

  /**
   * Completions an interval needs before its failure rate counts.
   *
   * @return completions an interval needs before its failure rate counts
   */
  public int minRequests() {
    return minRequests;
  }

  /**
   * How often failure rates are evaluated.
   *
   * @return how often failure rates are evaluated
   */
  public Duration interval() {
    return interval;
  }

  /**
   * The first ejection's length.
   *
   * @return the first ejection's length
   */
  public Duration baseEjectionTime() {
    return baseEjectionTime;
  }

  /**
   * The longest ejection.
   *
   * @return the longest ejection
   */
  public Duration maxEjectionTime() {
    return maxEjectionTime;
  }

  /**
   * Random stretch of each ejection, as a fraction.
   *
   * @return random stretch of each ejection, as a fraction
   */
  public double ejectionJitter() {
    return ejectionJitter;
  }

  /**
   * The most of the pool that may be ejected at once, in percent.
   *
   * @return the most of the pool that may be ejected at once, in percent
   */
  public int maxEjectionPercent() {
    return maxEjectionPercent;
  }

  /**
   * Requests let through in half-open, and successes needed to close.
   *
   * @return requests let through in half-open, and successes needed to close
   */
  public int trialRequests() {
    return trialRequests;
  }

  /**
   * How long a lease must have been open for its cancellation to count as a failure; zero: never.
   *
   * @return how long a lease must have been open for its cancellation to count as a failure
   */
  public Duration slowRequestThreshold() {
    return slowRequestThreshold;
  }

  /**
   * Whether a passing active probe ends a first ejection early (into half-open); a repeated one
   * always runs its time.
   *
   * @return whether a passing active probe ends a first ejection early (into half-open)
   */
  public boolean activeCheckEndsEjection() {
    return activeCheckEndsEjection;
  }

  /**
   * Whether ejections are only recorded.
   *
   * @return whether ejections are only recorded
   */
  public boolean dryRun() {
    return dryRun;
  }

  /** Configures {@link OutlierDetection}. */
  public static final class Builder {

    private int consecutiveFailures = 5;
    private double failureRate = 0.5;
    private int minRequests = 20;
    private Duration interval = Duration.ofSeconds(10);
    private Duration baseEjectionTime = Duration.ofSeconds(30);
    private Duration maxEjectionTime = Duration.ofSeconds(300);
    private double ejectionJitter = 0.1;
    private int maxEjectionPercent = 10;
    private int trialRequests = 3;
    private Duration slowRequestThreshold = Duration.ofSeconds(5);
    private boolean activeCheckEndsEjection = true;
    private boolean dryRun;

    private Builder() {}

    /**
     * Default 5 (Envoy's {@code consecutive_5xx}, Finagle's failure accrual); 0 disables.
     *
     * @param n default 5 (Envoy's {@code consecutive_5xx}, Finagle's failure accrual); 0 disables
     * @return this builder
     */
    public Builder consecutiveFailures(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("consecutiveFailures must be >= 0, was " + n);
      }
      this.consecutiveFailures = n;
      return this;
    }

    /**
     * Default 0.5 (Armeria's circuit breaker): half the requests failing is an outage of that
     * endpoint, not noise. Above 1 disables the rule.
     *
     * @param rate default 0.5 (Armeria's circuit breaker): half the requests failing is an outage
     *     of that endpoint, not noise
     * @return this builder
     */
    public Builder failureRate(double rate) {
      if (!(rate > 0)) {
        throw new IllegalArgumentException("failureRate must be positive, was " + rate);
      }
      this.failureRate = rate;
      return this;
    }

    /**
     * Default 20: below that, a rate is noise (Armeria uses 10, Envoy 100 for success rate).
     *
     * @param n default 20: below that, a rate is noise (Armeria uses 10, Envoy 100 for success
     *     rate)
     * @return this builder
     */
    public Builder minRequests(int n) {
      this.minRequests = HealthCheck.atLeastOne(n, "minRequests");
      return this;
    }

    /**
     * Default 10 s (Envoy, gRPC).
     *
     * @param d default 10 s (Envoy, gRPC)
     * @return this builder
     */
    public Builder interval(Duration d) {
      this.interval = HealthCheck.positive(d, "interval");
      return this;
    }

    /**
     * Default 30 s (Envoy, gRPC).
     *
     * @param d default 30 s (Envoy, gRPC)
     * @return this builder
     */
    public Builder baseEjectionTime(Duration d) {
      this.baseEjectionTime = HealthCheck.positive(d, "baseEjectionTime");
      return this;
    }

    /**
     * Default 300 s (Envoy, gRPC).
     *
     * @param d default 300 s (Envoy, gRPC)
     * @return this builder
     */
    public Builder maxEjectionTime(Duration d) {
      this.maxEjectionTime = HealthCheck.positive(d, "maxEjectionTime");
      return this;
    }

    /**
     * Default 0.1: ejected endpoints of one outage do not all return in the same instant.
     *
     * @param jitter default 0.1: ejected endpoints of one outage do not all return in the same
     *     instant
     * @return this builder
     */
    public Builder ejectionJitter(double jitter) {
      if (!(jitter >= 0 && jitter <= 1)) {
        throw new IllegalArgumentException("ejectionJitter must be in [0, 1], was " + jitter);
      }
      this.ejectionJitter = jitter;
      return this;
    }

    /**
     * Default 10 (Envoy, gRPC), with the one-endpoint floor described above.
     *
     * @param percent default 10 (Envoy, gRPC), with the one-endpoint floor described above
     * @return this builder
     */
    public Builder maxEjectionPercent(int percent) {
      if (percent < 0 || percent > 100) {
        throw new IllegalArgumentException("maxEjectionPercent must be in 0..100, was " + percent);
      }
      this.maxEjectionPercent = percent;
      return this;
    }

    /**
     * Default 3 (Armeria's trial requests are of this order): a handful, not a flood.
     *
     * @param n default 3 (Armeria's trial requests are of this order): a handful, not a flood
     * @return this builder
     */
    public Builder trialRequests(int n) {
      this.trialRequests = HealthCheck.atLeastOne(n, "trialRequests");
      return this;
    }

    /**
     * Default 5 s; zero disables. Longer than a healthy endpoint's slow requests usually take, and
     * shorter than the timeouts clients commonly wait before giving up (10-60 s), so a cancellation
     * this late most likely means the endpoint did not answer. Too short a threshold would eject
     * healthy endpoints behind impatient clients.
     *
     * @param d default 5 s; zero disables
     * @return this builder
     */
    public Builder slowRequestThreshold(Duration d) {
      if (d == null || d.isNegative()) {
        throw new IllegalArgumentException("slowRequestThreshold must be >= 0, was " + d);
      }
      this.slowRequestThreshold = d;
      return this;
    }

    /**
     * Default true (Envoy's {@code successful_active_health_check_uneject_host}), for a first
     * ejection only: a repeated ejection (the ejection count above 1) runs its full time.
     *
     * @param value default true (Envoy's {@code successful_active_health_check_uneject_host})
     * @return this builder
     */
    public Builder activeCheckEndsEjection(boolean value) {
      this.activeCheckEndsEjection = value;
      return this;
    }

    /**
     * Default false.
     *
     * @param value default false
     * @return this builder
     */
    public Builder dryRun(boolean value) {
      this.dryRun = value;
      return this;
    }

    /**
     * A frozen copy.
     *
     * @return a frozen copy
     * @throws IllegalArgumentException when maxEjectionTime is below baseEjectionTime
     */
    public OutlierDetection build() {
      if (maxEjectionTime.compareTo(baseEjectionTime) < 0) {
        throw new IllegalArgumentException(
            "maxEjectionTime ("
                + maxEjectionTime
                + ") must not be below baseEjectionTime ("
                + baseEjectionTime
                + ")");
      }
      return new OutlierDetection(this);
    }
  }
}
