package io.miniloadbalancer.edge.admin;

import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.http.Authority;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Where the admin plane may be reached from: the {@code Host} allow-list and the cross-site checks
 * on changes. One instance per proxy, immutable after construction.
 *
 * <p><b>Host allow-list (DNS rebinding).</b> Every request on the admin listener must name an
 * allowed {@code Host}: {@code localhost}, a loopback address, the bound address (unless it is a
 * wildcard) or the address the connection arrived on, with any port; or an entry of {@code
 * admin.allowedHosts}. Anything else is 403 (a page on {@code evil.example} whose DNS answer flips
 * to 127.0.0.1 reaches this listener from the operator's browser with {@code Host: evil.example};
 * no other check can tell it from the dashboard, since to the browser it is same-origin). A missing
 * {@code Host} on HTTP/1.1 or two of them is 400 (RFC 9112 section 3.2).
 *
 * <p><b>Cross-site request forgery.</b> A state-changing request (any method but GET and HEAD, the
 * login included) with an {@code Origin} must come from an allowed origin: {@code http} or {@code
 * https} and a host of {@code admin.allowedHosts}, or a built-in (loopback, bound) host whose host
 * and port equal the request's {@code Host} (so a page on {@code localhost:3000}, an unrelated
 * local dev server, cannot post to {@code localhost:9901}; comparing {@code Origin} with {@code
 * Host} alone would not be enough, since a rebinding attacker sets both). A request with the
 * session cookie must also carry {@value AdminAuth#CSRF_HEADER} (a cross-site form cannot set a
 * header, and a cross-site {@code fetch} with one needs a CORS preflight this plane never grants).
 * Clients that send no {@code Origin} (curl, scripts) are unaffected.
 */
final class AdminHosts {

  private final AdminAuth auth;
  private final byte @Nullable [] bindAddress;
  private final String bindName;
  private final List<Authority> allowed = new ArrayList<>();

  AdminHosts(EdgeConfig.Admin admin, AdminAuth auth) {
    this.auth = auth;
    byte[] bind = NetUtil.createByteArrayFromIpAddressString(admin.bind());
    // A wildcard bind names no address a browser should use: 0.0.0.0 as a Host is how pages
    // reached local services before browsers blocked it ("0.0.0.0 day").
    this.bindAddress = bind == null || isWildcard(bind) ? null : bind;
    this.bindName = admin.bind().toLowerCase(Locale.ROOT);
    for (String h : admin.allowedHosts()) {
      Authority a = Authority.parse(h);
      if (a == null) {
        throw new IllegalArgumentException(
            "admin.allowedHosts entry '" + h + "' is not host[:port]");
      }
      allowed.add(a);
    }
  }

  /**
   * Why this request must not be answered at all, or null when its {@code Host} is allowed: 400 for
   * a missing (HTTP/1.1), repeated or malformed {@code Host}, 403 for one not on the list.
   *
   * @param local the address the connection arrived on (null if unknown)
   */
  AdminAuth.@Nullable Refusal hostRefusal(
      HttpVersion version, HttpHeaders headers, @Nullable SocketAddress local) {
    List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
    if (hosts.size() > 1) {
      return new AdminAuth.Refusal(HttpResponseStatus.BAD_REQUEST, "more than one Host header");
    }
    if (hosts.isEmpty()) {
      return version.equals(HttpVersion.HTTP_1_0)
          ? null
          : new AdminAuth.Refusal(
              HttpResponseStatus.BAD_REQUEST, "the Host header is required (HTTP/1.1)");
    }
    String value = Authority.stripOws(hosts.get(0));
    Authority host = Authority.parse(value);
    if (host == null) {
      return new AdminAuth.Refusal(
          HttpResponseStatus.BAD_REQUEST,
          "Host header " + AdminAuth.quote(value) + " is not host[:port]");
    }
    if (builtIn(host, local) || configured(host, host.port())) {
      return null;
    }
    auth.warn(
        "admin request refused: Host {} is not allowed (DNS rebinding?)", AdminAuth.quote(value));
    return new AdminAuth.Refusal(
        HttpResponseStatus.FORBIDDEN,
        "Host "
            + AdminAuth.quote(value)
            + " is not allowed on the admin plane (DNS rebinding"
            + " protection); an operator adds the names this listener is reached by to"
            + " admin.allowedHosts");
  }

  /**
   * Why this request must not change anything, or null when it may: a foreign or malformed {@code
   * Origin}, or a cookie-authenticated change without {@value #AdminAuth.CSRF_HEADER}. Reads are
   * never refused here. Call after {@link #hostRefusal} accepted the request.
   */
  @Nullable String forgeryRefusal(
      HttpMethod method, HttpHeaders headers, AdminAuth.Via via, @Nullable SocketAddress local) {
    if (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)) {
      return null;
    }
    List<String> origins = headers.getAll(HttpHeaderNames.ORIGIN);
    if (origins.size() > 1) {
      return "more than one Origin header";
    }
    if (origins.size() == 1
        && !originAllowed(
            Authority.stripOws(origins.get(0)), headers.get(HttpHeaderNames.HOST), local)) {
      auth.warn(
          "admin change refused: Origin {} is not an allowed admin origin",
          AdminAuth.quote(origins.get(0)));
      return "cross-origin request refused: Origin "
          + AdminAuth.quote(origins.get(0))
          + " is not this admin plane (a loopback or bound origin must match Host; other"
          + " names must be in admin.allowedHosts)";
    }
    String marker = headers.get(AdminAuth.CSRF_HEADER);
    if (via == AdminAuth.Via.COOKIE && (marker == null || marker.isEmpty())) {
      return "a change made with the session cookie needs the " + AdminAuth.CSRF_HEADER + " header";
    }
    return null;
  }

  private boolean originAllowed(
      String origin, @Nullable String hostHeader, @Nullable SocketAddress local) {
    int sep = origin.indexOf("://");
    if (sep < 0) {
      return false; // "null" (sandboxed frames, file: pages) and anything else that is no
      // origin
    }
    String scheme = origin.substring(0, sep).toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      return false;
    }
    Authority o = Authority.parse(origin.substring(sep + 3));
    if (o == null) {
      return false;
    }
    int defaultPort = scheme.equals("https") ? 443 : 80;
    int port = o.port() == -1 ? defaultPort : o.port();
    if (configured(o, port)) {
      return true;
    }
    Authority h = hostHeader == null ? null : Authority.parse(Authority.stripOws(hostHeader));
    return h != null
        && builtIn(o, local)
        && sameHost(o, h)
        && port == (h.port() == -1 ? defaultPort : h.port());
  }

  private boolean builtIn(Authority a, @Nullable SocketAddress local) {
    if (a.host().equals("localhost") || a.host().equals(bindName) && a.ip() == null) {
      return true;
    }
    byte[] ip = a.ip();
    if (ip == null) {
      return false;
    }
    if (isLoopback(ip) || bindAddress != null && Arrays.equals(ip, bindAddress)) {
      return true;
    }
    return local instanceof InetSocketAddress l
        && l.getAddress() != null
        && Arrays.equals(ip, l.getAddress().getAddress());
  }

  private boolean configured(Authority a, int port) {
    for (Authority entry : allowed) {
      if (sameHost(entry, a) && (entry.port() == -1 || entry.port() == port)) {
        return true;
      }
    }
    return false;
  }

  private static boolean sameHost(Authority a, Authority b) {
    return a.ip() != null && b.ip() != null
        ? Arrays.equals(a.ip(), b.ip())
        : a.host().equals(b.host());
  }

  private static boolean isLoopback(byte[] ip) {
    if (ip.length == 4) {
      return ip[0] == 127;
    }
    for (int i = 0; i < 15; i++) {
      if (ip[i] != 0) {
        return false;
      }
    }
    return ip[15] == 1;
  }

  private static boolean isWildcard(byte[] ip) {
    for (byte b : ip) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }
}
