package io.miniloadbalancer.edge.config;

import io.miniloadbalancer.core.OutlierDetection;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A pool's passive outlier detection settings ({@code pools.<name>.outlier}), used while {@code
 * outlierDetection} is on. Every key left out takes lb-core's default ({@link
 * OutlierDetection.Builder}); the values are checked by lb-core's own builder when the file is
 * read, and an error names the key.
 *
 * @param consecutiveFailures failures in a row that eject an endpoint; 0 turns this rule off
 *     (lb-core: 5, Envoy's)
 * @param failureRate the failure share over {@code interval} that ejects (lb-core: 0.5)
 * @param minRequests requests in an interval before the failure rate counts (lb-core: 20)
 * @param interval the window the failure rate is measured over (lb-core: 10 s)
 * @param baseEjectionTime the first ejection's length; each repeat grows it (lb-core: 30 s)
 * @param maxEjectionTime the longest ejection (lb-core: 300 s)
 * @param ejectionJitter random stretch of an ejection, a fraction in [0, 1] (lb-core: 0.1)
 * @param maxEjectionPercent the most endpoints ejected at once, in percent (lb-core: 10)
 * @param trialRequests requests an endpoint back from ejection gets before it is trusted again
 *     (lb-core: 3)
 * @param activeCheckEndsEjection whether a passing active probe ends an ejection early (lb-core:
 *     true, Envoy's {@code successful_active_health_check_uneject_host})
 * @param dryRun log ejections without making them (lb-core: false)
 * @param slowRequestThreshold a cancellation (the client gave up) after this long counts as a
 *     failure (lb-core: 5 s)
 */
public record OutlierSettings(
    @Nullable Integer consecutiveFailures,
    @Nullable Double failureRate,
    @Nullable Integer minRequests,
    @Nullable Duration interval,
    @Nullable Duration baseEjectionTime,
    @Nullable Duration maxEjectionTime,
    @Nullable Double ejectionJitter,
    @Nullable Integer maxEjectionPercent,
    @Nullable Integer trialRequests,
    @Nullable Boolean activeCheckEndsEjection,
    @Nullable Boolean dryRun,
    @Nullable Duration slowRequestThreshold) {

  /** Validation: lb-core's builder checks every value given. */
  public OutlierSettings {
    // (A compact constructor has not assigned the fields yet: the check takes the parameters.)
    build(
        consecutiveFailures,
        failureRate,
        minRequests,
        interval,
        baseEjectionTime,
        maxEjectionTime,
        ejectionJitter,
        maxEjectionPercent,
        trialRequests,
        activeCheckEndsEjection,
        dryRun,
        slowRequestThreshold);
  }

  /** No keys: lb-core's defaults. */
  static OutlierSettings defaults() {
    return new OutlierSettings(
        null, null, null, null, null, null, null, null, null, null, null, null);
  }

  /**
   * lb-core's outlier detection for these settings, every key left out at lb-core's default.
   *
   * @return the frozen outlier detection
   * @throws IllegalArgumentException naming the key, when lb-core refuses a value
   */
  public OutlierDetection toOutlierDetection() {
    return build(
        consecutiveFailures,
        failureRate,
        minRequests,
        interval,
        baseEjectionTime,
        maxEjectionTime,
        ejectionJitter,
        maxEjectionPercent,
        trialRequests,
        activeCheckEndsEjection,
        dryRun,
        slowRequestThreshold);
  }

  private static OutlierDetection build(
      @Nullable Integer consecutiveFailures,
      @Nullable Double failureRate,
      @Nullable Integer minRequests,
      @Nullable Duration interval,
      @Nullable Duration baseEjectionTime,
      @Nullable Duration maxEjectionTime,
      @Nullable Double ejectionJitter,
      @Nullable Integer maxEjectionPercent,
      @Nullable Integer trialRequests,
      @Nullable Boolean activeCheckEndsEjection,
      @Nullable Boolean dryRun,
      @Nullable Duration slowRequestThreshold) {
    OutlierDetection.Builder b = OutlierDetection.builder();
    try {
      if (consecutiveFailures != null) {
        b.consecutiveFailures(consecutiveFailures);
      }
      if (failureRate != null) {
        b.failureRate(failureRate);
      }
      if (minRequests != null) {
        b.minRequests(minRequests);
      }
      if (interval != null) {
        b.interval(interval);
      }
      if (baseEjectionTime != null) {
        b.baseEjectionTime(baseEjectionTime);
      }
      if (maxEjectionTime != null) {
        b.maxEjectionTime(maxEjectionTime);
      }
      if (ejectionJitter != null) {
        b.ejectionJitter(ejectionJitter);
      }
      if (maxEjectionPercent != null) {
        b.maxEjectionPercent(maxEjectionPercent);
      }
      if (trialRequests != null) {
        b.trialRequests(trialRequests);
      }
      if (activeCheckEndsEjection != null) {
        b.activeCheckEndsEjection(activeCheckEndsEjection);
      }
      if (dryRun != null) {
        b.dryRun(dryRun);
      }
      if (slowRequestThreshold != null) {
        b.slowRequestThreshold(slowRequestThreshold);
      }
      return b.build();
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }
}
