package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

/**
 * One health probe's verdict.
 *
 * @param healthy whether the endpoint passed
 * @param detail what was seen, for the transition reason (for example {@code "HTTP 503"} or {@code
 *     "connect timed out after 1000 ms"})
 */
public record ProbeResult(boolean healthy, String detail) {

  /**
   * Checks that the detail is present.
   *
   * @param healthy whether the endpoint passed
   * @param detail what was seen, for the transition reason (for example {@code "HTTP 503"} or
   *     {@code "connect timed out after 1000 ms"})
   */
  public ProbeResult {
    requireNonNull(detail, "detail");
  }

  /**
   * A pass.
   *
   * @param detail what the probe saw, for people
   * @return a pass
   */
  public static ProbeResult pass(String detail) {
    return new ProbeResult(true, detail);
  }

  /**
   * A failure.
   *
   * @param detail what the probe saw, for people
   * @return a failure
   */
  public static ProbeResult fail(String detail) {
    return new ProbeResult(false, detail);
  }
}
