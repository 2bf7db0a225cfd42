package io.miniloadbalancer.edge.logging;

import ch.qos.logback.core.PropertyDefinerBase;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Which appender {@code logback.xml} uses: {@code text} (one readable line per event) on a
 * terminal, {@code json} (one JSON object per line) otherwise, so a log pipeline gets JSON and a
 * person at a shell gets text. An explicit choice wins: the system property {@value #PROPERTY}
 * ({@code --log-format} sets it), then {@code EDGE_LOG_FORMAT}.
 */
public final class LogFormat extends PropertyDefinerBase {

  /** The system property {@code --log-format} sets. */
  public static final String PROPERTY = "edge.log.format";

  /** The environment variable. */
  public static final String VARIABLE = "EDGE_LOG_FORMAT";

  /** For logback, which instantiates it from {@code logback.xml}. */
  public LogFormat() {}

  @Override
  public String getPropertyValue() {
    String chosen = choose(System.getProperty(PROPERTY), System.getenv(), System.console() != null);
    return chosen == null ? "json" : chosen;
  }

  /**
   * The format for an explicit setting and environment, or null for an unknown value (the caller
   * reports it; logback falls back to JSON).
   *
   * @param property the system property's value, if set
   * @param env the process environment
   * @param terminal whether stdout is a terminal
   * @return {@code text}, {@code json}, or null when a given value is neither
   */
  public static @Nullable String choose(
      @Nullable String property, Map<String, String> env, boolean terminal) {
    String given = property != null ? property : env.get(VARIABLE);
    if (given == null || given.isBlank()) {
      return terminal ? "text" : "json";
    }
    String v = given.trim().toLowerCase(Locale.ROOT);
    return v.equals("text") || v.equals("json") ? v : null;
  }
}
