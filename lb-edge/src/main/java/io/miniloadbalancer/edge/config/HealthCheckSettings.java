package io.miniloadbalancer.edge.config;

import io.miniloadbalancer.core.HealthCheck;
import io.miniloadbalancer.core.HealthProbes;
import io.miniloadbalancer.core.spi.HealthProbe;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A pool's active health check settings ({@code pools.<name>.healthCheck}). Every key left out
 * takes lb-core's default ({@link HealthCheck.Builder}), so the proxy and a library user get the
 * same behaviour; the values are checked by lb-core's own builder when the file is read, and an
 * error names the key.
 *
 * @param path the path the HTTP probe requests ({@code GET}, 2xx and 3xx are healthy); the
 *     shorthand {@code healthCheckPath} sets the same; one of the two turns active checks on
 * @param interval time between probes of a stable endpoint (lb-core: 2 s, HAProxy's {@code inter})
 * @param fastInterval time between probes while a transition is pending (lb-core: {@code interval};
 *     HAProxy's {@code fastinter})
 * @param downInterval time between probes of an unhealthy endpoint (lb-core: {@code interval};
 *     HAProxy's {@code downinter})
 * @param timeout how long a probe may take (lb-core: 1 s)
 * @param rise passing probes in a row that bring an endpoint back (lb-core: 2)
 * @param fall failed probes in a row that take an endpoint down (lb-core: 3)
 * @param jitter random stretch of each interval, a fraction in [0, 0.5] (lb-core: 0.1)
 * @param newEndpointsWaitForProbe whether an endpoint added after start waits for {@code rise}
 *     passing probes before it takes traffic (lb-core: false)
 */
public record HealthCheckSettings(
    @Nullable String path,
    @Nullable Duration interval,
    @Nullable Duration fastInterval,
    @Nullable Duration downInterval,
    @Nullable Duration timeout,
    @Nullable Integer rise,
    @Nullable Integer fall,
    @Nullable Double jitter,
    @Nullable Boolean newEndpointsWaitForProbe) {

  /** Validation: lb-core's builder checks every value given. */
  public HealthCheckSettings {
    if (path != null && !path.startsWith("/")) {
      throw new IllegalArgumentException("path must start with '/', was '" + path + "'");
    }
    // (A compact constructor has not assigned the fields yet: the check takes the parameters.)
    build(
        path,
        interval,
        fastInterval,
        downInterval,
        timeout,
        rise,
        fall,
        jitter,
        newEndpointsWaitForProbe,
        "/");
  }

  /** Only a path: the shorthand {@code healthCheckPath}. */
  static HealthCheckSettings ofPath(String path) {
    return new HealthCheckSettings(path, null, null, null, null, null, null, null, null);
  }

  /**
   * lb-core's health check for these settings: an HTTP probe of {@code path} ({@code defaultPath}
   * when none is set), every key left out at lb-core's default.
   *
   * @param defaultPath the path when {@code path} is not set
   * @return the frozen health check
   * @throws IllegalArgumentException naming the key, when lb-core refuses a value
   */
  public HealthCheck toHealthCheck(String defaultPath) {
    return build(
        path,
        interval,
        fastInterval,
        downInterval,
        timeout,
        rise,
        fall,
        jitter,
        newEndpointsWaitForProbe,
        defaultPath);
  }

  private static HealthCheck build(
      @Nullable String path,
      @Nullable Duration interval,
      @Nullable Duration fastInterval,
      @Nullable Duration downInterval,
      @Nullable Duration timeout,
      @Nullable Integer rise,
      @Nullable Integer fall,
      @Nullable Double jitter,
      @Nullable Boolean newEndpointsWaitForProbe,
      String defaultPath) {
    try {
      // The probe's own limit is the check's timeout: lb-core's default unless one is set.
      Duration probeLimit =
          timeout != null
              ? timeout
              : HealthCheck.builder(HealthProbes.tcp(Duration.ofSeconds(1))).build().timeout();
      HealthProbe probe = HealthProbes.http(path != null ? path : defaultPath, probeLimit);
      HealthCheck.Builder b = HealthCheck.builder(probe);
      if (interval != null) {
        b.interval(interval);
      }
      if (fastInterval != null) {
        b.fastInterval(fastInterval);
      }
      if (downInterval != null) {
        b.downInterval(downInterval);
      }
      if (timeout != null) {
        b.timeout(timeout);
      }
      if (rise != null) {
        b.rise(rise);
      }
      if (fall != null) {
        b.fall(fall);
      }
      if (jitter != null) {
        b.jitter(jitter);
      }
      if (newEndpointsWaitForProbe != null) {
        b.newEndpointsWaitForProbe(newEndpointsWaitForProbe);
      }
      return b.build();
    } catch (IllegalArgumentException | NullPointerException e) {
      // lb-core's message names the setting ("rise must be at least 1, was 0"); the reader
      // prefixes the key path (pools.api.healthCheck).
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }
}
