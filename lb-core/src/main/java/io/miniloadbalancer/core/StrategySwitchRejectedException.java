package io.miniloadbalancer.core;

/**
 * A strategy switch that the balancer refused, for a reason given in the message: the minimum dwell
 * time since the previous switch has not passed, or the balancer is closed. Unknown strategy names
 * are refused earlier, with an {@link IllegalArgumentException} listing the valid ones.
 */
public final class StrategySwitchRejectedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * For the balancer.
   *
   * @param message why, and when to retry
   */
  public StrategySwitchRejectedException(String message) {
    super(message);
  }
}
