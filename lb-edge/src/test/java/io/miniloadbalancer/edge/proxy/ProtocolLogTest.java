package io.miniloadbalancer.edge.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Every protocol error is counted; the WARN lines about them are rate-limited and forge-proof. */
class ProtocolLogTest {

  private final Logger logger =
      (Logger) LoggerFactory.getLogger("io.miniloadbalancer.edge.protocol");
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

  @BeforeEach
  void attach() {
    lines.start();
    logger.addAppender(lines);
  }

  @AfterEach
  void detach() {
    logger.detachAppender(lines);
  }

  @Test
  void aFloodIsCountedInFullButLoggedAtMostTwentyLinesASecond() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ProtocolLog log = new ProtocolLog(new EdgeMeters(registry));
    InetSocketAddress peer = new InetSocketAddress("127.0.0.1", 4242);
    long start = System.nanoTime();
    for (int i = 0; i < 1_000; i++) {
      log.record(ProtocolLog.Side.CLIENT, "request", log.newRequestId(), peer, "400 bad Host");
    }
    long seconds = Math.max(1, (System.nanoTime() - start) / 1_000_000_000L + 1);
    assertThat(
            registry
                .get(EdgeMeters.PROTOCOL_ERRORS)
                .tag("side", "client")
                .tag("kind", "request")
                .counter()
                .count())
        .isEqualTo(1_000);
    assertThat(lines.list).hasSizeBetween(1, (int) (20 * (seconds + 1)));
    assertThat(lines.list.get(0).getFormattedMessage())
        .contains("client request")
        .contains("127.0.0.1:4242")
        .contains("400 bad Host");
  }

  @Test
  void aHostileValueCannotForgeALogLine() {
    ProtocolLog log = new ProtocolLog(new EdgeMeters(new SimpleMeterRegistry()));
    log.record(
        ProtocolLog.Side.UPSTREAM,
        "malformed",
        "id",
        new InetSocketAddress("127.0.0.1", 1),
        "bad header\r\n2026-01-01 INFO all good\u0000");
    assertThat(lines.list.get(0).getFormattedMessage())
        .doesNotContain("\r")
        .doesNotContain("\n")
        .doesNotContain("\u0000");
  }

  @Test
  void requestIdsAreUniqueAndShort() {
    ProtocolLog log = new ProtocolLog(new EdgeMeters(new SimpleMeterRegistry()));
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String id = log.newRequestId();
      assertThat(id).matches("[0-9a-f]{16}");
      ids.add(id);
    }
    assertThat(ids).hasSize(10_000);
  }
}
