package io.miniloadbalancer.edge.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import java.net.URL;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * Log levels and format from the command line and the environment, checked before the proxy starts
 * (a typo is a configuration error, exit 2, not a silent DEBUG as logback would make of an unknown
 * level):
 *
 * <ul>
 *   <li>{@code EDGE_LOG_LEVEL=DEBUG}: the root level ({@code logback.xml} reads it too);
 *   <li>{@code EDGE_LOG_LEVELS=io.netty=DEBUG,io.miniloadbalancer.transitions=WARN}: per logger,
 *       comma-separated {@code logger=LEVEL} pairs (an environment variable's name cannot carry a
 *       logger's dots, so the names go in the value);
 *   <li>{@code --log-format=text|json} or {@code EDGE_LOG_FORMAT}: see {@link LogFormat}.
 * </ul>
 */
public final class LogSettings {

  private static final List<String> LEVELS =
      List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");

  private LogSettings() {}

  /**
   * Checks and applies the settings.
   *
   * @param format {@code --log-format}'s value, or null when not given
   * @param env the process environment
   * @return null when applied, else what is wrong, naming the option or variable
   */
  public static @Nullable String apply(@Nullable String format, Map<String, String> env) {
    if (format != null && LogFormat.choose(format, Map.of(), false) == null) {
      return "--log-format: expected text or json, was '" + format + "'";
    }
    if (format == null && LogFormat.choose(null, env, false) == null) {
      return LogFormat.VARIABLE
          + ": expected text or json, was '"
          + env.get(LogFormat.VARIABLE)
          + "'";
    }
    String root = env.get("EDGE_LOG_LEVEL");
    if (root != null && !isLevel(root)) {
      return "EDGE_LOG_LEVEL: expected one of " + LEVELS + ", was '" + root + "'";
    }
    Map<String, Level> levels = new LinkedHashMap<>();
    String perLogger = env.get("EDGE_LOG_LEVELS");
    if (perLogger != null) {
      for (String pair : perLogger.split(",")) {
        if (pair.isBlank()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String name = eq < 0 ? "" : pair.substring(0, eq).trim();
        String level = eq < 0 ? "" : pair.substring(eq + 1).trim();
        if (name.isEmpty() || !isLevel(level)) {
          return "EDGE_LOG_LEVELS: expected logger=LEVEL pairs, comma-separated, with LEVEL one of "
              + LEVELS
              + "; was '"
              + pair.trim()
              + "'";
        }
        levels.put(name, Level.toLevel(level.toUpperCase(Locale.ROOT)));
      }
    }
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return null; // another SLF4J provider (an embedding host): its own configuration rules
    }
    if (format != null) {
      System.setProperty(LogFormat.PROPERTY, format.trim().toLowerCase(Locale.ROOT));
      reconfigure(context);
    }
    if (root != null) {
      context
          .getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
          .setLevel(Level.toLevel(root.trim().toUpperCase(Locale.ROOT)));
    }
    levels.forEach((name, level) -> context.getLogger(name).setLevel(level));
    return null;
  }

  private static boolean isLevel(String s) {
    return LEVELS.contains(s.trim().toUpperCase(Locale.ROOT));
  }

  /** Runs logback.xml again, now that the format property is set. */
  private static void reconfigure(LoggerContext context) {
    URL xml = LogSettings.class.getResource("/logback.xml");
    if (xml == null) {
      return;
    }
    context.reset();
    JoranConfigurator c = new JoranConfigurator();
    c.setContext(context);
    try {
      c.doConfigure(xml);
    } catch (JoranException e) {
      System.err.println("edge-proxy: logging setup failed: " + e.getMessage());
    }
  }
}
