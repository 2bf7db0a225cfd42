package io.miniloadbalancer.edge.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.config.InvalidConfigException;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** Line formats, the format choice, and the level settings from the environment. */
class LoggingTest {

  private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();

  @AfterEach
  void restore() {
    context.getLogger("io.netty").setLevel(Level.WARN);
    context.getLogger("io.miniloadbalancer.transitions").setLevel(null);
    context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(Level.INFO);
    MDC.clear();
  }

  private static LoggingEvent event(String message, Throwable t) {
    Logger logger = (Logger) LoggerFactory.getLogger("io.miniloadbalancer.test");
    LoggingEvent e = new LoggingEvent("fqcn", logger, Level.INFO, message, t, null);
    e.setTimeStamp(1_764_584_400_123L);
    return e;
  }

  @Test
  void jsonLinesHaveIsoTimeNoEmptyFieldsAndUnescapedSlashes() throws Exception {
    JsonLineLayout layout = new JsonLineLayout();
    String line = layout.doLayout(event("try: curl http://127.0.0.1:8080/proxy/demo/hello", null));

    assertThat(line).endsWith(System.lineSeparator()).contains("curl http://127.0.0.1:8080/proxy");
    assertThat(line.strip()).doesNotContain("\n").doesNotContain("\\/");
    JsonNode json = new ObjectMapper().readTree(line);
    assertThat(json.get("time").asText()).isEqualTo("2025-12-01T10:20:00.123Z");
    assertThat(Instant.parse(json.get("time").asText())).isNotNull();
    assertThat(json.get("level").asText()).isEqualTo("INFO");
    assertThat(json.get("logger").asText()).isEqualTo("io.miniloadbalancer.test");
    assertThat(json.has("mdc")).isFalse();
    assertThat(json.has("throwable")).isFalse();
  }

  @Test
  void jsonLinesCarryAThrowableAndMdcWhenThereAreAny() throws Exception {
    MDC.put("requestId", "abc");
    String line = new JsonLineLayout().doLayout(event("boom", new IllegalStateException("bad")));
    JsonNode json = new ObjectMapper().readTree(line);
    assertThat(json.get("mdc").get("requestId").asText()).isEqualTo("abc");
    assertThat(json.get("throwable").asText()).contains("IllegalStateException: bad");
  }

  @Test
  void theFormatIsTextOnATerminalJsonOtherwiseUnlessChosen() {
    assertThat(LogFormat.choose(null, Map.of(), true)).isEqualTo("text");
    assertThat(LogFormat.choose(null, Map.of(), false)).isEqualTo("json");
    assertThat(LogFormat.choose(null, Map.of("EDGE_LOG_FORMAT", "TEXT"), false)).isEqualTo("text");
    assertThat(LogFormat.choose("json", Map.of("EDGE_LOG_FORMAT", "text"), true)).isEqualTo("json");
    assertThat(LogFormat.choose("xml", Map.of(), true)).isNull();
  }

  @Test
  void levelsFromTheEnvironmentApplyAndTyposAreNamed() {
    assertThat(
            LogSettings.apply(
                null,
                Map.of(
                    "EDGE_LOG_LEVEL", "warn",
                    "EDGE_LOG_LEVELS", "io.netty=DEBUG, io.miniloadbalancer.transitions=ERROR")))
        .isNull();
    assertThat(context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel())
        .isEqualTo(Level.WARN);
    assertThat(context.getLogger("io.netty").getLevel()).isEqualTo(Level.DEBUG);
    assertThat(context.getLogger("io.miniloadbalancer.transitions").getLevel())
        .isEqualTo(Level.ERROR);

    assertThat(LogSettings.apply(null, Map.of("EDGE_LOG_LEVEL", "LOUD")))
        .startsWith("EDGE_LOG_LEVEL: expected one of")
        .contains("'LOUD'");
    assertThat(LogSettings.apply(null, Map.of("EDGE_LOG_LEVELS", "io.netty")))
        .startsWith("EDGE_LOG_LEVELS: expected logger=LEVEL");
    assertThat(LogSettings.apply("yaml", Map.of()))
        .startsWith("--log-format: expected text or json");
    assertThat(LogSettings.apply(null, Map.of("EDGE_LOG_FORMAT", "xml")))
        .startsWith("EDGE_LOG_FORMAT: expected text or json");
  }

  @Test
  void theConfigLoaderLeavesTheLoggingVariablesToTheLoggingSetup() throws InvalidConfigException {
    var cfg =
        ConfigFiles.parse(
            "pools:\n  p:\n    endpoints:\n      - {id: a, host: 127.0.0.1, port: 1}\n",
            "t.yaml",
            Map.of(
                "EDGE_LOG_LEVEL", "DEBUG",
                "EDGE_LOG_LEVELS", "io.netty=INFO",
                "EDGE_LOG_FORMAT", "text",
                "EDGE_ACCESS_LOG_ENABLED", "false"));
    assertThat(cfg.accessLog().enabled()).isFalse();
  }
}
