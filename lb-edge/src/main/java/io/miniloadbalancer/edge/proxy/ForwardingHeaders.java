package io.miniloadbalancer.edge.proxy;

import io.miniloadbalancer.edge.config.AddressRanges;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The fields a proxy rewrites on each hop: hop-by-hop fields go (RFC 9110 7.6.1), {@code
 * X-Forwarded-*} and {@code Via} say who forwarded what. Headers are rewritten in place rather than
 * copied: the copies were about 30% of the proxy's allocation per request.
 */
final class ForwardingHeaders {

  // AsciiString names: their hash is computed once, not on every remove (twice per exchange).
  private static final List<AsciiString> HOP_BY_HOP =
      List.of(
          HttpHeaderNames.CONNECTION,
          AsciiString.cached("keep-alive"),
          AsciiString.cached("proxy-connection"),
          AsciiString.cached("proxy-authenticate"),
          HttpHeaderNames.PROXY_AUTHORIZATION,
          HttpHeaderNames.TE,
          HttpHeaderNames.TRAILER,
          HttpHeaderNames.TRANSFER_ENCODING,
          HttpHeaderNames.UPGRADE);

  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
  private static final AsciiString X_FORWARDED_PORT = AsciiString.cached("x-forwarded-port");
  private static final AsciiString FORWARDED = AsciiString.cached("forwarded");
  private static final AsciiString HTTP = AsciiString.cached("http");
  private static final String VIA_1_1 = "1.1 edge-balancer";
  private static final String VIA_1_0 = "1.0 edge-balancer";

  private ForwardingHeaders() {}

  /**
   * Turns the client's request headers into the upstream's, once per exchange (later attempts only
   * change Host). Forwarding claims are believed only from {@code trusted} peers.
   */
  static void rewriteRequest(
      HttpRequest request,
      ClientAddress client,
      boolean trusted,
      boolean upgradeAsked,
      boolean chunked,
      @Nullable StickySessions sticky) {
    HttpHeaders h = request.headers();
    String originalHost = h.get(HttpHeaderNames.HOST);
    // Every line: a field split over lines is one list (RFC 9110 5.3), each a hop.
    String xff = trusted ? joined(h, X_FORWARDED_FOR) : null;
    String xfProto = trusted ? h.get(X_FORWARDED_PROTO) : null;
    String xfHost = trusted ? h.get(X_FORWARDED_HOST) : null;
    String xfPort = trusted ? h.get(X_FORWARDED_PORT) : null;
    stripHopByHop(h);
    if (!trusted) {
      // A client's own forwarding claims would reach backends that act on them (RFC 7239).
      h.remove(FORWARDED);
    }
    String clientIp = client.ip();
    h.set(X_FORWARDED_FOR, xff == null || xff.isBlank() ? clientIp : xff + ", " + clientIp);
    h.set(X_FORWARDED_PROTO, xfProto != null ? xfProto : HTTP);
    if (xfHost != null) {
      h.set(X_FORWARDED_HOST, xfHost);
    } else if (originalHost != null) {
      h.set(X_FORWARDED_HOST, originalHost);
    } else {
      h.remove(X_FORWARDED_HOST);
    }
    h.set(X_FORWARDED_PORT, xfPort != null ? xfPort : client.localPort());
    appendVia(h, request.protocolVersion());
    if (request.protocolVersion().minorVersion() == 0) {
      // An HTTP/1.0 request's Expect is ignored (RFC 9110 10.1.1).
      h.remove(HttpHeaderNames.EXPECT);
    }
    if (upgradeAsked) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
      h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
    } else {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    if (chunked) {
      h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    if (sticky != null) {
      sticky.strip(h); // the proxy's cookie, not the application's
    }
  }

  /** Removes the hop-by-hop fields, and every field {@code Connection} names. */
  static void stripHopByHop(HttpHeaders h) {
    for (String connectionToken : h.getAll(HttpHeaderNames.CONNECTION)) {
      if (HttpHeaderValues.KEEP_ALIVE.contentEqualsIgnoreCase(connectionToken)) {
        continue; // the common value, removed below with the other hop-by-hop names: no split
      }
      for (String name : connectionToken.split(",")) {
        h.remove(name.trim());
      }
    }
    for (AsciiString name : HOP_BY_HOP) {
      h.remove(name);
    }
  }

  /** Adds this hop to {@code Via}: the version the message was {@code received} in. */
  static void appendVia(HttpHeaders h, HttpVersion received) {
    String via =
        received == HttpVersion.HTTP_1_1
            ? VIA_1_1
            : received == HttpVersion.HTTP_1_0
                ? VIA_1_0
                : received.majorVersion() + "." + received.minorVersion() + " edge-balancer";
    String existing = h.get(HttpHeaderNames.VIA);
    h.set(HttpHeaderNames.VIA, existing == null ? via : existing + ", " + via);
  }

  private static @Nullable String joined(HttpHeaders h, CharSequence name) {
    List<String> all = h.getAll(name);
    return all.isEmpty() ? null : String.join(", ", all);
  }

  /**
   * The client connection's addresses as the forwarding headers write them, computed once per
   * connection rather than once per request.
   */
  static final class ClientAddress {
    private final Channel channel;
    private @Nullable String ip;
    private @Nullable String localPort;
    private @Nullable Boolean trusted;

    ClientAddress(Channel channel) {
      this.channel = channel;
    }

    String ip() {
      String s = ip;
      if (s == null) {
        s =
            channel.remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null
                ? a.getAddress().getHostAddress()
                : "unknown";
        ip = s;
      }
      return s;
    }

    boolean trusted(AddressRanges trustedProxies) {
      Boolean t = trusted;
      if (t == null) {
        t = trustedProxies.contains(channel.remoteAddress());
        trusted = t;
      }
      return t;
    }

    String localPort() {
      String s = localPort;
      if (s == null) {
        s = String.valueOf(channel.localAddress() instanceof InetSocketAddress a ? a.getPort() : 0);
        localPort = s;
      }
      return s;
    }
  }
}
