package io.miniloadbalancer.edge.proxy;

import static io.miniloadbalancer.edge.http.Authority.stripOws;

import io.miniloadbalancer.edge.http.Authority;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * What the proxy accepts as an HTTP/1.1 message, from either side: the one place where framing is
 * decided. Netty's decoder (kept at its strict defaults: RFC 9112 transfer-coding rules, strict
 * line endings, validated header names and values, duplicate Content-Length refused) does the
 * byte-level parsing; these rules add what it leaves to the application, so that the framing of
 * every message the proxy forwards is one it decided itself (RFC 9112 section 11.2).
 */
final class MessageRules {

  private MessageRules() {}

  /** A refused message: the status to answer (requests) and why, for the log. */
  record Refusal(HttpResponseStatus status, String reason) {}

  // ---- requests (RFC 9112 2-7, RFC 9110 7.2, 7.6.1)
  // ---------------------------------------------

  /**
   * Why {@code request} must be refused, or null when it may be forwarded. Every refusal closes the
   * connection: after a framing error nothing that follows on it can be trusted.
   */
  static @Nullable Refusal checkRequest(HttpRequest request) {
    DecoderResult result = request.decoderResult();
    if (result.isFailure()) {
      return decodeFailure(result.cause());
    }
    HttpVersion version = request.protocolVersion();
    if (version != HttpVersion.HTTP_1_1 && version != HttpVersion.HTTP_1_0) {
      if (version.majorVersion() == 1 && version.minorVersion() <= 1) {
        // Netty upper-cases what it parses: "http/1.1" arrives here as a second HTTP/1.1
        // instance.
        // The name is case-sensitive (RFC 9112 2.3).
        return bad("HTTP version name must be upper case");
      }
      // Well formed but not ours to speak (RFC 9110 15.6.6).
      return new Refusal(
          HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED,
          "HTTP version " + printable(version.text()));
    }
    if (request.method().equals(HttpMethod.CONNECT)) {
      return new Refusal(
          HttpResponseStatus.METHOD_NOT_ALLOWED,
          "CONNECT is not supported: this is not a forward proxy");
    }
    String target = request.uri();
    if (target.isEmpty() || target.charAt(0) != '/') {
      // Absolute-form would name a host, authority-form is CONNECT's, asterisk-form OPTIONS
      // *:
      // the pools alone decide where a request goes.
      return bad("request target must be a path (origin-form)");
    }
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      // RFC 9112 3.2 / RFC 3986: visible US-ASCII only. Netty reads the line as ISO-8859-1,
      // so raw
      // UTF-8 shows up here as chars >= 0x80; forwarding it would encode it a second time.
      if (c <= 0x20 || c >= 0x7F || c == '#') {
        return bad("request target has a byte that is not visible ASCII at offset " + i);
      }
    }
    if (hasDotSegmentOrBackslash(target)) {
      // Routing reads the path as sent; a backend, a WAF or a browser that removes
      // dot-segments
      // (RFC 3986 5.2.4) would read another one. Browsers never send them; refused, not
      // rewritten.
      return bad("request target has a dot-segment or a backslash");
    }
    if (request.method().equals(HttpMethod.TRACE)) {
      // TRACE would echo the client's cookies and credentials back through the edge (as
      // nginx: 405).
      return new Refusal(HttpResponseStatus.METHOD_NOT_ALLOWED, "TRACE is not supported");
    }
    HttpHeaders h = request.headers();
    List<String> hosts = h.getAll(HttpHeaderNames.HOST);
    if (hosts.size() > 1) {
      return bad("more than one Host header");
    }
    if (hosts.isEmpty()) {
      if (version.minorVersion() == 1) {
        return bad("HTTP/1.1 request without Host"); // RFC 9112 3.2
      }
    } else if (!isAuthority(hosts.get(0))) {
      return bad("Host is not a valid authority");
    }
    Refusal connection = checkConnectionHeader(h);
    if (connection != null) {
      return connection;
    }
    List<String> te = h.getAll(HttpHeaderNames.TRANSFER_ENCODING);
    if (!te.isEmpty() && !(te.size() == 1 && stripOws(te.get(0)).equalsIgnoreCase("chunked"))) {
      // Netty already refused a final coding other than chunked (RFC 9112 6.3: 400); what is
      // left
      // is a coding before chunked that we do not implement (RFC 9112 6.1: 501).
      return new Refusal(
          HttpResponseStatus.NOT_IMPLEMENTED,
          "unsupported Transfer-Encoding: " + printable(String.join(",", te)));
    }
    String length = h.get(HttpHeaderNames.CONTENT_LENGTH);
    if (length != null && !isDigits(stripOws(length))) {
      return bad("Content-Length is not a decimal number");
    }
    return null;
  }

  /**
   * RFC 9110 7.6.1 lets a sender list any field in Connection, and the proxy removes the fields
   * listed. Listing a framing field would make the proxy forward a body whose framing it removed
   * (the {@code Connection: Content-Length} smuggling), and listing Host would drop the routing
   * authority: both are refused.
   */
  private static @Nullable Refusal checkConnectionHeader(HttpHeaders h) {
    String named = namedFramingField(h);
    return named == null
        ? null
        : bad("Connection names " + named + ", a field the proxy must not remove");
  }

  /** The framing (or routing) field a Connection header lists, if any; the same rule both ways. */
  private static @Nullable String namedFramingField(HttpHeaders h) {
    for (String value : h.getAll(HttpHeaderNames.CONNECTION)) {
      if (HttpHeaderValues.KEEP_ALIVE.contentEqualsIgnoreCase(value)
          || HttpHeaderValues.CLOSE.contentEqualsIgnoreCase(value)) {
        continue; // the common single token, which names no field: no split on every message
      }
      for (String token : value.split(",")) {
        String t = stripOws(token).toLowerCase(Locale.ROOT);
        if (t.equals("content-length") || t.equals("transfer-encoding") || t.equals("host")) {
          return t;
        }
      }
    }
    return null;
  }

  private static Refusal decodeFailure(Throwable cause) {
    if (cause instanceof TooLongHttpHeaderException) {
      return new Refusal(
          HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
          "request head larger than server.maxHeaderBytes");
    }
    if (cause instanceof TooLongHttpLineException) {
      return new Refusal(HttpResponseStatus.REQUEST_URI_TOO_LONG, "request line too long");
    }
    if (cause instanceof TooLongFrameException) {
      return new Refusal(
          HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head too large");
    }
    return bad("malformed request: " + describe(cause));
  }

  /** A short, printable account of a decoder failure (for logs, never for clients). */
  static String describe(Throwable cause) {
    String m = cause.getMessage();
    return printable(m == null ? cause.getClass().getSimpleName() : m);
  }

  /** A "." or ".." path segment, raw or percent-encoded, or a '\\', before any query. */
  static boolean hasDotSegmentOrBackslash(String target) {
    // One pass, no copies (it runs on every request): a segment is "." or ".." when it holds
    // only
    // dots, each written '.' or "%2e".
    int dots = 0;
    boolean onlyDots = true;
    for (int i = 0; i <= target.length(); i++) {
      char c = i < target.length() ? target.charAt(i) : '/';
      if (c == '?') {
        c = '/';
      }
      if (c == '/') {
        if (onlyDots && (dots == 1 || dots == 2)) {
          return true;
        }
        if (i < target.length() && target.charAt(i) == '?') {
          return false;
        }
        dots = 0;
        onlyDots = true;
      } else if (c == '\\') {
        return true;
      } else if (c == '.') {
        dots++;
      } else if (c == '%'
          && i + 2 < target.length()
          && target.charAt(i + 1) == '2'
          && (target.charAt(i + 2) | 0x20) == 'e') {
        dots++;
        i += 2;
      } else if (c == '%'
          && i + 2 < target.length()
          && target.charAt(i + 1) == '5'
          && (target.charAt(i + 2) | 0x20) == 'c') {
        return true;
      } else {
        onlyDots = false;
      }
    }
    return false;
  }

  // ---- responses (RFC 9112 4, 6.3; RFC 9110 15.2)
  // -------------------------------------------------

  /**
   * Why a backend's response head must not be relayed, or null. {@code upgradeAsked}: whether the
   * request asked for a WebSocket upgrade (a 101 is only valid then).
   */
  static @Nullable String checkResponse(HttpResponse response, boolean upgradeAsked) {
    DecoderResult result = response.decoderResult();
    if (result.isFailure()) {
      return "malformed response head: " + describe(result.cause());
    }
    HttpVersion version = response.protocolVersion();
    if (version != HttpVersion.HTTP_1_1 && version != HttpVersion.HTTP_1_0) {
      return "response version " + printable(version.text());
    }
    int code = response.status().code();
    if (code < 100 || code > 599) {
      return "status code " + code + " out of range";
    }
    String reason = response.status().reasonPhrase();
    for (int i = 0; i < reason.length(); i++) {
      char c = reason.charAt(i);
      if (c < 0x20 && c != '\t' || c == 0x7F) { // RFC 9112 4: HTAB, SP, VCHAR, obs-text only
        return "control byte in the reason phrase";
      }
    }
    if (code == 101 && !upgradeAsked) {
      return "101 Switching Protocols without an upgrade request";
    }
    HttpHeaders h = response.headers();
    String named = namedFramingField(h);
    if (named != null) {
      // Removing it as hop-by-hop would leave the client unable to find the body's end.
      return "Connection names " + named;
    }
    List<String> te = h.getAll(HttpHeaderNames.TRANSFER_ENCODING);
    if (!te.isEmpty() && !(te.size() == 1 && stripOws(te.get(0)).equalsIgnoreCase("chunked"))) {
      // Re-framing would drop the other codings and corrupt the body (RFC 9112 6.1).
      return "unsupported Transfer-Encoding " + printable(String.join(",", te));
    }
    String length = h.get(HttpHeaderNames.CONTENT_LENGTH);
    if (length != null && !isDigits(stripOws(length))) {
      return "Content-Length is not a decimal number";
    }
    return null;
  }

  /**
   * Whether a response's framing fields contradict its status (RFC 9110 8.6, 6.4.1): a 1xx or 204
   * with Content-Length or Transfer-Encoding, a 304 with Transfer-Encoding. The head is relayed
   * without a body, but the connection may carry bytes the backend meant as that body: not reused.
   */
  static boolean framingContradictsStatus(HttpResponse response) {
    int code = response.status().code();
    HttpHeaders h = response.headers();
    boolean te = h.contains(HttpHeaderNames.TRANSFER_ENCODING);
    if (code < 200 || code == 204) {
      return te || h.contains(HttpHeaderNames.CONTENT_LENGTH);
    }
    return code == 304 && te;
  }

  // ---- helpers
  // -----------------------------------------------------------------------------------

  private static Refusal bad(String why) {
    return new Refusal(HttpResponseStatus.BAD_REQUEST, why);
  }

  private static boolean isDigits(String s) {
    if (s.isEmpty() || s.length() > 18) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /**
   * The Host rule, for both listeners: true when {@code host} is an authority (see {@link
   * Authority#parse}).
   */
  static boolean isAuthority(String host) {
    return Authority.isValid(stripOws(host));
  }

  /** At most 120 chars, control bytes shown as '?', so a hostile value cannot forge log lines. */
  static String printable(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), 120));
    for (int i = 0; i < s.length() && i < 120; i++) {
      char c = s.charAt(i);
      b.append(c < 0x20 || c >= 0x7F ? '?' : c);
    }
    return b.toString();
  }
}
