package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.spi.HealthProbe;
import java.time.Duration;

/**
 * Active health checking settings: a frozen copy made by {@link Builder#build()}.
 *
 * <pre>{@code
 * HealthCheck check = HealthCheck.builder(HealthProbes.http("/health", Duration.ofSeconds(1)))
 *     .interval(Duration.ofSeconds(2)).rise(2).fall(3).build();
 * }</pre>
 *
 * <p>Hysteresis: an up endpoint goes {@link EndpointState#UNHEALTHY} after {@code fall} failed
 * probes in a row, a down one comes back after {@code rise} passing probes in a row, so a probe
 * that alternates pass/fail never moves it. Intervals follow HAProxy: {@code interval} ({@code
 * inter}) while stable, {@code fastInterval} ({@code fastinter}) while a transition is pending,
 * {@code downInterval} ({@code downinter}) while down; each is jittered so a fleet does not probe
 * in step.
 */
public final class HealthCheck {

  private final HealthProbe probe;
  private final Duration interval;
  private final Duration fastInterval;
  private final Duration downInterval;
  private final Duration timeout;
  private final int rise;
  private final int fall;
  private final double jitter;
  private final boolean newEndpointsWaitForProbe;

  private HealthCheck(Builder b) {
    this.probe = b.probe;
    this.interval = b.interval;
    this.fastInterval = b.fastInterval != null ? b.fastInterval : b.interval;
    this.downInterval = b.downInterval != null ? b.downInterval : b.interval;
    this.timeout = b.timeout;
    this.rise = b.rise;
    this.fall = b.fall;
    this.jitter = b.jitter;
    this.newEndpointsWaitForProbe = b.newEndpointsWaitForProbe;
  }

  /**
   * A builder with the defaults: 2 s intervals, 1 s timeout, rise 2, fall 3, 10% jitter.
   *
   * @param probe how one endpoint is checked
   * @return a builder with the defaults: 2 s intervals, 1 s timeout, rise 2, fall 3, 10% jitter
   */
  public static Builder builder(HealthProbe probe) {
    return new Builder(requireNonNull(probe, "probe"));
  }

  /**
   * The probe.
   *
   * @return the probe
   */
  public HealthProbe probe() {
    return probe;
  }

  /**
   * Interval while stable.
   *
   * @return interval while stable
   */
  public Duration interval() {
    return interval;
  }

  /**
   * Interval while a transition is pending.
   *
   * @return interval while a transition is pending
   */
  public Duration fastInterval() {
    return fastInterval;
  }

  /**
   * Interval while down.
   *
   * @return interval while down
   */
  public Duration downInterval() {
    return downInterval;
  }

  /**
   * How long a probe may take before it counts as failed.
   *
   * @return how long a probe may take before it counts as failed
   */
  public Duration timeout() {
    return timeout;
  }

  /**
   * Passing probes in a row that bring a down endpoint back.
   *
   * @return passing probes in a row that bring a down endpoint back
   */
  public int rise() {
    return rise;
  }

  /**
   * Failed probes in a row that take an up endpoint down.
   *
   * @return failed probes in a row that take an up endpoint down
   */
  public int fall() {
    return fall;
  }

  /**
   * The fraction each interval is randomly stretched or shrunk by.
   *
   * @return the fraction each interval is randomly stretched or shrunk by
   */
  public double jitter() {
    return jitter;
  }

  /**
   * Whether an endpoint added after start waits for {@code rise} passing probes.
   *
   * @return whether an endpoint added after start waits for {@code rise} passing probes
   */
  public boolean newEndpointsWaitForProbe() {
    return newEndpointsWaitForProbe;
  }

  @Override
  public String toString() {
    return "HealthCheck[interval="
        + interval
        + ", fastInterval="
        + fastInterval
        + ", downInterval="
        + downInterval
        + ", timeout="
        + timeout
        + ", rise="
        + rise
        + ", fall="
        + fall
        + ", jitter="
        + jitter
        + ", newEndpointsWaitForProbe="
        + newEndpointsWaitForProbe
        + "]";
  }

  /** Configures a {@link HealthCheck}. */
  public static final class Builder {

    private final HealthProbe probe;
    private Duration interval = Duration.ofSeconds(2);
    private Duration fastInterval;
    private Duration downInterval;
    private Duration timeout = Duration.ofSeconds(1);
    private int rise = 2;
    private int fall = 3;
    private double jitter = 0.1;
    private boolean newEndpointsWaitForProbe;

    private Builder(HealthProbe probe) {
      this.probe = probe;
    }

    /**
     * Interval while stable. Default 2 s (HAProxy's {@code inter}).
     *
     * @param interval interval while stable
     * @return this builder
     */
    public Builder interval(Duration interval) {
      this.interval = positive(interval, "interval");
      return this;
    }

    /**
     * Interval while a transition is pending. Default: {@code interval}, as HAProxy.
     *
     * @param fastInterval interval while a transition is pending
     * @return this builder
     */
    public Builder fastInterval(Duration fastInterval) {
      this.fastInterval = positive(fastInterval, "fastInterval");
      return this;
    }

    /**
     * Interval while down. Default: {@code interval}, as HAProxy.
     *
     * @param downInterval interval while down
     * @return this builder
     */
    public Builder downInterval(Duration downInterval) {
      this.downInterval = positive(downInterval, "downInterval");
      return this;
    }

    /**
     * How long a probe may take. Default 1 s: half the interval, so rounds never overlap.
     *
     * @param timeout how long a probe may take
     * @return this builder
     */
    public Builder timeout(Duration timeout) {
      this.timeout = positive(timeout, "timeout");
      return this;
    }

    /**
     * Passing probes in a row to come back. Default 2 (HAProxy).
     *
     * @param rise passing probes in a row to come back
     * @return this builder
     */
    public Builder rise(int rise) {
      this.rise = atLeastOne(rise, "rise");
      return this;
    }

    /**
     * Failed probes in a row to go down. Default 3 (HAProxy).
     *
     * @param fall failed probes in a row to go down
     * @return this builder
     */
    public Builder fall(int fall) {
      this.fall = atLeastOne(fall, "fall");
      return this;
    }

    /**
     * Random stretch of each interval, as a fraction in [0, 0.5]. Default 0.1: enough to spread a
     * fleet's probes, small enough to keep detection time predictable (Armeria uses 0.2).
     *
     * @param jitter random stretch of each interval, as a fraction in [0, 0.5]
     * @return this builder
     */
    public Builder jitter(double jitter) {
      if (!(jitter >= 0 && jitter <= 0.5)) {
        throw new IllegalArgumentException("jitter must be in [0, 0.5], was " + jitter);
      }
      this.jitter = jitter;
      return this;
    }

    /**
     * Whether an endpoint its source adds after start waits for {@code rise} passing probes before
     * taking traffic. Default false: discovery (Consul) has already checked it, and a static list
     * is deliberate, so it takes traffic at once and the first failed probes (or passive outlier
     * detection, faster) take it out; set true where a new endpoint may be up before it is ready.
     *
     * @param wait whether an endpoint its source adds after start waits for {@code rise} passing
     *     probes before taking traffic
     * @return this builder
     */
    public Builder newEndpointsWaitForProbe(boolean wait) {
      this.newEndpointsWaitForProbe = wait;
      return this;
    }

    /**
     * A frozen copy.
     *
     * @return a frozen copy
     */
    public HealthCheck build() {
      return new HealthCheck(this);
    }
  }

  static Duration positive(Duration d, String name) {
    requireNonNull(d, name);
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be positive, was " + d);
    }
    return d;
  }

  static int atLeastOne(int value, String name) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, was " + value);
    }
    return value;
  }
}
