package io.miniloadbalancer.edge.proxy;

import io.miniloadbalancer.core.Lease;
import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON line per ended exchange on the logger {@value #LOGGER} (its own appender: the line is
 * the message, nothing around it). Called from {@link ExchangeEndings} once per exchange, on the
 * client connection's event loop. Off ({@code accessLog.enabled: false}, or the logger above INFO):
 * nothing is built at all.
 *
 * <p>Fields: {@code time}, {@code requestId}, {@code client}, {@code pool}, {@code endpoint},
 * {@code method}, {@code path}, {@code status} (0: none sent), {@code outcome}, {@code bytesIn},
 * {@code bytesOut} (body bytes), {@code upstreamMs} (last attempt: lease to response head), {@code
 * totalMs}, {@code attempts}, {@code sticky} ({@code hit}, {@code moved}, {@code new}; absent for a
 * pool without affinity).
 */
final class AccessLog {

  static final String LOGGER = "io.miniloadbalancer.edge.access";
  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

  private final boolean enabled;

  AccessLog(boolean enabled) {
    this.enabled = enabled;
  }

  /** Writes the line for {@code ex}, when the access log is on. */
  void log(ProxyExchange ex, EdgeMeters.Ending ending, long totalNanos) {
    if (!enabled || !LOG.isInfoEnabled()) {
      return;
    }
    StringBuilder b = new StringBuilder(320);
    b.append("{\"time\":\"").append(Instant.now()).append('"');
    field(b, "requestId", ex.requestId());
    field(b, "client", address(ex.client.channel().remoteAddress()));
    field(b, "pool", ex.pool.name());
    Lease lease = ex.lease;
    field(b, "endpoint", lease == null ? null : lease.endpoint().id());
    field(b, "method", ex.request.method().name());
    field(b, "path", ex.request.uri());
    b.append(",\"status\":").append(ex.status);
    field(b, "outcome", ending.tag);
    b.append(",\"bytesIn\":").append(ex.bodyBytes);
    b.append(",\"bytesOut\":").append(ex.responseBytes);
    millis(b.append(",\"upstreamMs\":"), ex.headLatencyNanos);
    millis(b.append(",\"totalMs\":"), totalNanos);
    b.append(",\"attempts\":").append(ex.attempt);
    if (ex.pool.sticky() != null) {
      field(b, "sticky", sticky(ex));
    }
    b.append('}');
    LOG.info(b.toString());
  }

  /**
   * Writes the line for a request the proxy answered itself without a pool ({@code outcome} {@code
   * no_route}): the operator sees what clients asked for that nothing serves.
   */
  void logUnrouted(
      @Nullable SocketAddress client, HttpRequest request, int status, String requestId) {
    if (!enabled || !LOG.isInfoEnabled()) {
      return;
    }
    StringBuilder b = new StringBuilder(256);
    b.append("{\"time\":\"").append(Instant.now()).append('"');
    field(b, "requestId", requestId);
    field(b, "client", address(client));
    field(b, "pool", null);
    field(b, "endpoint", null);
    field(b, "method", request.method().name());
    field(b, "path", request.uri());
    b.append(",\"status\":").append(status);
    field(b, "outcome", "no_route");
    b.append(
        ",\"bytesIn\":0,\"bytesOut\":0,\"upstreamMs\":0.000,\"totalMs\":0.000,\"attempts\":0}");
    LOG.info(b.toString());
  }

  /** Whether the session's pinned endpoint served it. */
  private static String sticky(ProxyExchange ex) {
    if (ex.pinnedEndpoint == null) {
      return "new";
    }
    Lease lease = ex.lease;
    return lease != null && ex.pinnedEndpoint.equals(lease.endpoint().id()) ? "hit" : "moved";
  }

  /** Milliseconds with three decimals: a proxy's own overhead is well under a millisecond. */
  private static void millis(StringBuilder b, long nanos) {
    long micros = TimeUnit.NANOSECONDS.toMicros(Math.max(0, nanos));
    long frac = micros % 1000;
    b.append(micros / 1000).append('.');
    if (frac < 100) {
      b.append(frac < 10 ? "00" : "0");
    }
    b.append(frac);
  }

  private static @Nullable String address(@Nullable SocketAddress a) {
    if (a instanceof InetSocketAddress i && i.getAddress() != null) {
      return i.getAddress().getHostAddress();
    }
    return a == null ? null : a.toString();
  }

  private static void field(StringBuilder b, String name, @Nullable String value) {
    b.append(",\"").append(name).append("\":");
    if (value == null) {
      b.append("null");
      return;
    }
    b.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
