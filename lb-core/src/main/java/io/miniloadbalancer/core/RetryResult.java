package io.miniloadbalancer.core;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link RetryExecutor#execute} call ended with: the last attempt's value or error, and the
 * story of every attempt.
 *
 * @param value the last attempt's value, when it returned one (possibly a failure such as a 503)
 * @param error the last attempt's exception, when it threw, or the {@link
 *     NoEndpointAvailableException} when no endpoint could be had
 * @param attempts each attempt, in order
 * @param budgetExhausted whether a retry was wanted but the balancer's retry budget refused it
 * @param <T> the attempt's value type
 */
public record RetryResult<T>(
    @Nullable T value, @Nullable Throwable error, List<Attempt> attempts, boolean budgetExhausted) {

  /**
   * Copies the list.
   *
   * @param value the last attempt's value, when it returned one (possibly a failure such as a 503)
   * @param error the last attempt's exception, when it threw, or the {@link
   *     NoEndpointAvailableException} when no endpoint could be had
   * @param attempts each attempt, in order
   * @param budgetExhausted whether a retry was wanted but the balancer's retry budget refused it
   */
  public RetryResult {
    attempts = List.copyOf(attempts);
  }

  /**
   * One attempt.
   *
   * @param endpointId where it went, or null when no endpoint could be had
   * @param failed whether it failed
   * @param detail what happened, for error messages
   */
  public record Attempt(@Nullable String endpointId, boolean failed, String detail) {}

  /**
   * Whether the final attempt failed.
   *
   * @return whether the final attempt failed
   */
  public boolean failed() {
    return attempts.isEmpty() || attempts.get(attempts.size() - 1).failed();
  }

  /**
   * One line per attempt, for error messages.
   *
   * @return one line per attempt, for error messages
   */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < attempts.size(); i++) {
      Attempt a = attempts.get(i);
      sb.append(i == 0 ? "" : "; ")
          .append("attempt ")
          .append(i + 1)
          .append(a.endpointId() == null ? "" : " on " + a.endpointId())
          .append(": ")
          .append(a.detail());
    }
    if (budgetExhausted) {
      sb.append("; retry budget exhausted");
    }
    return sb.toString();
  }
}
