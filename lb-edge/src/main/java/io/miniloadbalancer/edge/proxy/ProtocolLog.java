package io.miniloadbalancer.edge.proxy;

import io.micrometer.core.instrument.Counter;
import io.miniloadbalancer.edge.http.LogRateLimit;
import java.net.SocketAddress;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every protocol error either side commits, and every request the proxy could not serve, is counted
 * ({@value EdgeMeters#PROTOCOL_ERRORS}, {@code edge_protocol_errors_total{side,kind}}) and logged
 * as one WARN line with a request id, the peer and what was wrong. The log is rate-limited (at most
 * {@value #LINES_PER_SECOND} lines a second; the next line says how many were left out), so a
 * hostile client cannot flood it. The request id is what the client sees in its error body and
 * {@code X-Request-Id}: the detail stays in the log, the id connects the two.
 */
final class ProtocolLog {

  private static final Logger LOG = LoggerFactory.getLogger("io.miniloadbalancer.edge.protocol");
  private static final int LINES_PER_SECOND = 20;
  private static final long ID_PREFIX = new SecureRandom().nextLong() & 0xFFFF_FFFFL;

  private static final char[] HEX = "0123456789abcdef".toCharArray();
  private final AtomicLong ids = new AtomicLong();
  private final LogRateLimit lines = new LogRateLimit(LINES_PER_SECOND, System::currentTimeMillis);
  private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final EdgeMeters meters;

  ProtocolLog(EdgeMeters meters) {
    this.meters = meters;
  }

  /** The client-side sides of the proxy; the kind is a short fixed word (a metric tag). */
  enum Side {
    CLIENT,
    UPSTREAM
  }

  /** A new request id: 8 hex digits of this process, 8 of a counter. Unique per process run. */
  String newRequestId() {
    // By hand, not String.format: one id per access-log line, so per request.
    long id = (ID_PREFIX << 32) | (ids.incrementAndGet() & 0xFFFF_FFFFL);
    char[] digits = new char[16];
    for (int i = 15; i >= 0; i--) {
      digits[i] = HEX[(int) (id & 0xF)];
      id >>>= 4;
    }
    return new String(digits);
  }

  /** Counts and (rate permitting) logs one error. {@code kind} must come from a fixed set. */
  void record(Side side, String kind, String requestId, SocketAddress peer, String what) {
    counters
        .computeIfAbsent(
            side.name() + kind,
            k -> meters.protocolErrors(side.name().toLowerCase(java.util.Locale.ROOT), kind))
        .increment();
    long dropped = lines.admit();
    if (dropped < 0) {
      return;
    }
    LOG.warn(
        "{} {} request {} peer {}: {}{}",
        side.name().toLowerCase(java.util.Locale.ROOT),
        kind,
        requestId,
        peer,
        MessageRules.printable(what),
        dropped > 0 ? " (" + dropped + " similar lines left out)" : "");
  }
}
