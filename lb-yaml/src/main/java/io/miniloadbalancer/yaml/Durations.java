package io.miniloadbalancer.yaml;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one duration syntax of hand-written configuration: 1 to 9 digits and a unit, {@code ms},
 * {@code s}, {@code m} or {@code h} ({@code 500ms}, {@code 20s}, {@code 5m}, {@code 1h}).
 *
 * <p>Why this and nothing else: it is the union of the units lb-edge and the replay tool accepted
 * ({@code ms|s|m|h}), written the way lb-edge's admin plane already demands. No sign (a negative
 * timeout is never meant), no fraction, no ISO-8601 ({@code PT-5S} is negative, {@code P1D}
 * ambiguous to a reader). Nine digits cannot overflow {@link Duration} in any unit, so a typo with
 * extra digits fails here, by name, instead of somewhere later. Surrounding whitespace is ignored
 * (an environment variable may carry some). Bounds per setting (at most 10m, at least 1ms) stay
 * with the setting's own check.
 *
 * <p>Thread-safe; stateless.
 */
public final class Durations {

  /** What a duration looks like, for error messages. */
  public static final String SYNTAX = "a duration like 500ms, 20s, 5m or 1h";

  private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})(ms|s|m|h)");

  private Durations() {}

  /**
   * Parses {@code raw} in the syntax above.
   *
   * @param raw the text as written, e.g. {@code "300ms"}
   * @return the duration, zero or positive
   * @throws IllegalArgumentException when {@code raw} is not in the syntax; the message quotes it
   *     and shows the syntax, e.g. {@code '800 millis' is not a duration like 500ms, 20s, 5m or 1h
   *     (digits and a unit, no sign)}
   */
  public static Duration parse(String raw) {
    Matcher m = DURATION.matcher(raw.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + raw + "' is not " + SYNTAX + " (digits and a unit, no sign)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> throw new IllegalStateException("unit outside the pattern: " + m.group(2));
    };
  }
}
