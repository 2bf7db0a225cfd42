package io.miniloadbalancer.edge;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.CookieHeaderNames;
import io.netty.handler.codec.http.cookie.DefaultCookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieEncoder;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * Who may use the admin plane, and how a browser proves it.
 *
 * <p>Open (no checks) only when the admin listener is bound to loopback and no token is set;
 * otherwise every {@code /admin/*} request needs either the bearer token ({@code Authorization:
 * Bearer <token>}, for scripts) or a session cookie (for the dashboard: a browser cannot add a
 * header to a page load). The cookie comes from {@code POST /admin/ui/login} with the token; it is
 * {@code HttpOnly} (page scripts cannot read it), {@code SameSite=Strict} (other sites' pages do not
 * send it) and scoped to {@code Path=/admin}. Its value is {@code <expiry>.<mac>}, the MAC an
 * HMAC-SHA256 of the expiry and the token under a key drawn at process start: no server-side
 * session table to bound, a restart or a changed token ends every session, and nothing in the
 * cookie reveals the token. Comparisons are constant-time.
 *
 * <p>Cross-site request forgery: a state-changing request authenticated by the cookie must also
 * carry {@value #CSRF_HEADER} (a cross-site form cannot set a header, and a cross-site {@code fetch}
 * with one needs a CORS preflight this plane never grants). And any state-changing request whose
 * {@code Origin} is not this plane is refused, which also covers the open loopback mode, where a
 * page in the operator's browser could otherwise post to {@code 127.0.0.1}. Clients that send no
 * {@code Origin} (curl, scripts) are unaffected.
 *
 * <p>Immutable and thread-safe.
 */
final class AdminAuth {

  /** The dashboard's session cookie. */
  static final String SESSION_COOKIE = "edge_admin_session";

  /** The header a cookie-authenticated state change must carry (any non-empty value). */
  static final String CSRF_HEADER = "X-Edge-Admin";

  /**
   * How long a dashboard login lasts: 8 hours, a working shift or a long incident, so an operator
   * is not logged out mid-incident, yet a forgotten browser does not stay in for days.
   */
  static final Duration SESSION_LIFETIME = Duration.ofHours(8);

  /** Drawn once per process: sessions do not outlive the process that issued them. */
  private static final byte[] PROCESS_KEY = new SecureRandom().generateSeed(32);

  /** How a request was let in. */
  enum Via {
    /** The plane is open (loopback without a token). */
    OPEN,
    /** A correct bearer token. */
    BEARER,
    /** A valid session cookie. */
    COOKIE,
    /** Not at all. */
    NONE
  }

  private final boolean open;
  private final String token;
  private final Clock clock;

  AdminAuth(EdgeConfig.Admin admin, Clock clock) {
    this.open = EdgeConfig.isLoopback(admin.bind()) && admin.token().isEmpty();
    this.token = admin.token();
    this.clock = clock;
  }

  /** Whether requests need a token or a session at all. */
  boolean required() {
    return !open;
  }

  /** How this request is authenticated; {@link Via#NONE} when it is not. */
  Via check(HttpHeaders headers) {
    if (open) {
      return Via.OPEN;
    }
    String header = headers.get(HttpHeaderNames.AUTHORIZATION);
    if (header != null && equal(header, "Bearer " + token)) {
      return Via.BEARER;
    }
    for (String line : headers.getAll(HttpHeaderNames.COOKIE)) {
      for (Cookie c : ServerCookieDecoder.STRICT.decode(line)) {
        if (c.name().equals(SESSION_COOKIE) && validSession(c.value())) {
          return Via.COOKIE;
        }
      }
    }
    return Via.NONE;
  }

  /**
   * Why this request must not change anything, or null when it may: a foreign {@code Origin}, or a
   * cookie-authenticated change without {@value #CSRF_HEADER}. Reads are never refused here.
   */
  @Nullable String forgeryRefusal(HttpMethod method, HttpHeaders headers, Via via) {
    if (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)) {
      return null;
    }
    String origin = headers.get(HttpHeaderNames.ORIGIN);
    if (origin != null && !sameAuthority(origin, headers.get(HttpHeaderNames.HOST))) {
      return "cross-origin request refused: Origin " + origin + " is not this admin plane";
    }
    String marker = headers.get(CSRF_HEADER);
    if (via == Via.COOKIE && (marker == null || marker.isEmpty())) {
      return "a change made with the session cookie needs the " + CSRF_HEADER + " header";
    }
    return null;
  }

  /** Whether {@code candidate} is the configured token (constant-time). */
  boolean tokenMatches(String candidate) {
    return equal(candidate, token);
  }

  /** A {@code Set-Cookie} value for a new session. */
  String newSessionCookie() {
    long expiry = clock.instant().plus(SESSION_LIFETIME).getEpochSecond();
    DefaultCookie c = new DefaultCookie(SESSION_COOKIE, expiry + "." + mac(expiry));
    c.setHttpOnly(true);
    c.setSameSite(CookieHeaderNames.SameSite.Strict);
    c.setPath("/admin");
    c.setMaxAge(SESSION_LIFETIME.toSeconds());
    return ServerCookieEncoder.STRICT.encode(c);
  }

  /** A {@code Set-Cookie} value that deletes the session cookie (logout). */
  static String expiredSessionCookie() {
    DefaultCookie c = new DefaultCookie(SESSION_COOKIE, "");
    c.setHttpOnly(true);
    c.setSameSite(CookieHeaderNames.SameSite.Strict);
    c.setPath("/admin");
    c.setMaxAge(0);
    return ServerCookieEncoder.STRICT.encode(c);
  }

  boolean validSession(String value) {
    int dot = value.indexOf('.');
    if (dot <= 0) {
      return false;
    }
    long expiry;
    try {
      expiry = Long.parseLong(value.substring(0, dot));
    } catch (NumberFormatException e) {
      return false;
    }
    return clock.instant().getEpochSecond() < expiry && equal(value.substring(dot + 1), mac(expiry));
  }

  private String mac(long expiry) {
    try {
      Mac hmac = Mac.getInstance("HmacSHA256");
      hmac.init(new SecretKeySpec(PROCESS_KEY, "HmacSHA256"));
      hmac.update((expiry + "\n").getBytes(StandardCharsets.UTF_8));
      byte[] out = hmac.doFinal(token.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
    }
  }

  private static boolean equal(String a, String b) {
    return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  private static boolean sameAuthority(String origin, @Nullable String host) {
    if (host == null) {
      return false;
    }
    try {
      URI o = URI.create(origin);
      String authority = o.getPort() == -1 ? o.getHost() : o.getHost() + ":" + o.getPort();
      return host.equalsIgnoreCase(authority);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
