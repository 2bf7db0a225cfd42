package io.miniloadbalancer.core;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP rules every adapter applies, in one table: which answer is which {@link Outcome}, which
 * failed answer a retry may replace, which request may be sent twice, and how long a {@code
 * Retry-After} asks for. Plain strings and ints, so any HTTP library (OkHttp, Netty, the JDK
 * client) maps onto it.
 *
 * <table>
 *   <caption>Status to outcome</caption>
 *   <tr><th>answer</th><th>outcome</th><th>retryable</th></tr>
 *   <tr><td>429</td><td>{@link Outcome#OVERLOADED}</td><td>yes</td></tr>
 *   <tr><td>503 with a readable {@code Retry-After}</td><td>{@link Outcome#OVERLOADED}</td>
 *       <td>yes</td></tr>
 *   <tr><td>other 5xx (503 without {@code Retry-After} included)</td>
 *       <td>{@link Outcome#FAILURE}</td><td>yes</td></tr>
 *   <tr><td>1xx to 4xx (429 excepted)</td><td>{@link Outcome#SUCCESS}</td><td>no</td></tr>
 * </table>
 *
 * <p>An overloaded endpoint is paused for the time asked ({@link Lease#overloaded}), not counted as
 * broken: it answered, it only asked for less traffic.
 */
public final class HttpOutcomes {

  /** Methods safe to send twice (RFC 9110 section 9.2.2). */
  public static final Set<String> IDEMPOTENT_METHODS =
      Set.of("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE");

  /** The request header that makes any method safe to retry (the IETF idempotency-key draft). */
  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  /** The response header with the pause an overloaded endpoint asks for. */
  public static final String RETRY_AFTER = "Retry-After";

  /** The longest {@code Retry-After} read; the balancer's {@code maxPenalty} caps it lower. */
  private static final Duration MAX_RETRY_AFTER = Duration.ofDays(1);

  private HttpOutcomes() {}

  /**
   * The outcome of an answer with {@code status}.
   *
   * @param status the response status code
   * @param hasRetryAfter whether the answer carried a readable {@code Retry-After} (see {@link
   *     #retryAfter})
   * @return {@link Outcome#OVERLOADED}, {@link Outcome#FAILURE} or {@link Outcome#SUCCESS}, as the
   *     table above says
   */
  public static Outcome outcome(int status, boolean hasRetryAfter) {
    if (status == 429 || (status == 503 && hasRetryAfter)) {
      return Outcome.OVERLOADED;
    }
    return status >= 500 ? Outcome.FAILURE : Outcome.SUCCESS;
  }

  /**
   * Whether an answer with {@code status} is a failed attempt that a retry on another endpoint may
   * replace: every 5xx, and 429.
   *
   * @param status the response status code
   * @return whether the answer counts as failed for retries
   */
  public static boolean isRetryable(int status) {
    return status >= 500 || status == 429;
  }

  /**
   * Whether a request may be sent twice: its method is idempotent by definition, or it carries an
   * {@code Idempotency-Key}.
   *
   * @param method the request method, in any case
   * @param hasIdempotencyKey whether the request carries an {@value #IDEMPOTENCY_KEY} header
   * @return whether a retry may resend it
   */
  public static boolean isIdempotent(String method, boolean hasIdempotencyKey) {
    return hasIdempotencyKey || IDEMPOTENT_METHODS.contains(method.toUpperCase(Locale.ROOT));
  }

  /**
   * Reads a {@code Retry-After} value: delay seconds or an HTTP date, capped at a day.
   *
   * @param value the header's value, or null when the answer had none
   * @param now the current time, for an HTTP date
   * @return the pause asked for (zero for a date in the past), or null when absent or unreadable
   */
  public static @Nullable Duration retryAfter(@Nullable String value, Instant now) {
    if (value == null) {
      return null;
    }
    String v = value.trim();
    Duration d;
    try {
      d = Duration.ofSeconds(Math.max(0, Long.parseLong(v)));
    } catch (NumberFormatException | ArithmeticException notSeconds) {
      try {
        Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        d = Duration.between(now, at);
      } catch (DateTimeParseException notDate) {
        return null;
      }
    }
    if (d.isNegative()) {
      return Duration.ZERO;
    }
    return d.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : d;
  }
}
