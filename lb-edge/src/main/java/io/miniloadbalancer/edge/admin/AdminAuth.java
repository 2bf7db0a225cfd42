package io.miniloadbalancer.edge.admin;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.miniloadbalancer.edge.config.AddressRanges;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.http.LogRateLimit;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.CookieHeaderNames;
import io.netty.handler.codec.http.cookie.DefaultCookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieEncoder;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may use the admin plane, from where, and how a browser proves it. One instance per proxy (its
 * tables are shared by every admin connection).
 *
 * <p>The {@code Host} allow-list (DNS rebinding) and the cross-site checks on changes are {@link
 * AdminHosts}'s; this class answers for them.
 *
 * <p><b>Tokens and sessions.</b> Open (no token) only when the admin listener is bound to loopback
 * and no token is set; otherwise every {@code /admin/*} request needs either the bearer token
 * ({@code Authorization: Bearer <token>}, for scripts) or a session cookie (for the dashboard: a
 * browser cannot add a header to a page load). The cookie comes from {@code POST /admin/ui/login}
 * with the token; it is {@code HttpOnly}, {@code SameSite=Strict} and scoped to {@code
 * Path=/admin}. Its value is {@code <expiry>.<id>.<mac>}: a random session id, the MAC an
 * HMAC-SHA256 of expiry and id under a key drawn at process start and the token (a restart or a
 * changed token ends every session; nothing in the cookie reveals the token). The id must also be
 * in the table of live sessions, so logout revokes: the table holds at most {@value #MAX_SESSIONS}
 * sessions for at most their lifetime, and when full drops the oldest, which logs that operator out
 * (it fails closed; a revoked-id table that overflowed would instead bring sessions back).
 * Comparisons are constant-time.
 *
 * <p><b>Guessing.</b> A wrong token (at the login or in a bearer header) counts against the
 * caller's address (IPv6 by its /64, what one host holds): after {@value #MAX_TOKEN_FAILURES} in
 * {@link #FAILURE_WINDOW} every token from that address is refused with 429 and {@code Retry-After}
 * until the window ends, without being compared (so a correct guess in the lock-out gains nothing).
 * Valid session cookies still work (an operator's dashboard on the same loopback address keeps
 * running). Each failure and the first refusal of a window are one WARN line with the address; a
 * process-wide cap of {@value #WARN_LINES_PER_SECOND} such lines a second keeps a flood from many
 * addresses out of the log (the next line says how many were dropped).
 *
 * <p>Thread-safe: the session and failure tables are Caffeine caches; the WARN cap is a small
 * synchronized counter (the admin plane is not the data path).
 */
final class AdminAuth {

  private static final Logger LOG = LoggerFactory.getLogger(AdminAuth.class);

  /** The dashboard's session cookie. */
  static final String SESSION_COOKIE = "edge_admin_session";

  /** The header a cookie-authenticated state change must carry (any non-empty value). */
  static final String CSRF_HEADER = "X-Edge-Admin";

  /**
   * How long a dashboard login lasts: 8 hours, a working shift or a long incident, so an operator
   * is not logged out mid-incident, yet a forgotten browser does not stay in for days.
   */
  static final Duration SESSION_LIFETIME = Duration.ofHours(8);

  /**
   * Live sessions kept: 1,000, far above the operators of one proxy, and about 100 KB. Only a
   * correct token creates one, so only an operator (or a script logging in in a loop) fills it.
   */
  static final int MAX_SESSIONS = 1_000;

  /**
   * Wrong tokens allowed per address and window: 5, as fail2ban's default {@code maxretry} (and
   * about what a typing operator needs). With a 32-byte token guessing is hopeless anyway; the
   * limit turns a flood into a log line and a 429 instead of 1,200 free guesses a second.
   */
  static final int MAX_TOKEN_FAILURES = 5;

  /**
   * The failure window and the lock-out after it: 1 minute, so a locked-out operator waits a
   * minute, not fail2ban's 10 (the address is often a shared loopback or NAT).
   */
  static final Duration FAILURE_WINDOW = Duration.ofMinutes(1);

  /**
   * Addresses tracked: 10,000 (about 1 MB). A flood from more addresses evicts the oldest, which
   * only lets those start a new window: each address still gets at most 5 guesses a minute.
   */
  static final int MAX_TRACKED_ADDRESSES = 10_000;

  /** Process-wide cap on the admin plane's WARN lines: 10 a second, a readable log in a flood. */
  static final int WARN_LINES_PER_SECOND = 10;

  private static final int SESSION_ID_BYTES = 16;
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Drawn once per process: sessions do not outlive the process that issued them. */
  private static final byte[] PROCESS_KEY = RANDOM.generateSeed(32);

  /** How a request was let in. */
  enum Via {
    /** The plane is open (loopback without a token). */
    OPEN,
    /** A correct bearer token. */
    BEARER,
    /** A valid session cookie. */
    COOKIE,
    /** Not at all. */
    NONE,
    /** A token from an address locked out for too many wrong tokens: refused unread (429). */
    THROTTLED
  }

  /** A refused request: its status and a message for the client. */
  record Refusal(HttpResponseStatus status, String message) {}

  /** One address's wrong tokens in its current window. */
  private record Window(long startMillis, int failures, boolean refusalLogged) {}

  private final boolean open;
  private final String token;
  private final Clock clock;
  private final Cache<String, Boolean> sessions =
      Caffeine.newBuilder().maximumSize(MAX_SESSIONS).expireAfterWrite(SESSION_LIFETIME).build();
  private final Cache<InetAddress, Window> failures =
      Caffeine.newBuilder()
          .maximumSize(MAX_TRACKED_ADDRESSES)
          .expireAfterWrite(FAILURE_WINDOW)
          .build();
  private final LogRateLimit warnLimit;
  private final AdminHosts hosts;

  AdminAuth(EdgeConfig.Admin admin, Clock clock) {
    this.open = AddressRanges.isLoopback(admin.bind()) && admin.token().isEmpty();
    this.token = admin.token();
    this.clock = clock;
    this.warnLimit = new LogRateLimit(WARN_LINES_PER_SECOND, clock::millis);
    this.hosts = new AdminHosts(admin, this);
  }

  /** Whether requests need a token or a session at all. */
  boolean required() {
    return !open;
  }

  /**
   * Why this request must not be answered at all, or null when its {@code Host} is allowed; see
   * {@link AdminHosts#hostRefusal}.
   */
  @Nullable Refusal hostRefusal(
      HttpVersion version, HttpHeaders headers, @Nullable SocketAddress local) {
    return hosts.hostRefusal(version, headers, local);
  }

  /**
   * Why this request must not change anything, or null when it may; see {@link
   * AdminHosts#forgeryRefusal}.
   */
  @Nullable String forgeryRefusal(
      HttpMethod method, HttpHeaders headers, Via via, @Nullable SocketAddress local) {
    return hosts.forgeryRefusal(method, headers, via, local);
  }

  // ---- tokens, guessing
  // ------------------------------------------------------------------------

  /**
   * How this request is authenticated; a wrong bearer token counts as a failure of {@code client}.
   */
  Via check(HttpHeaders headers, InetAddress client) {
    if (open) {
      return Via.OPEN;
    }
    String header = headers.get(HttpHeaderNames.AUTHORIZATION);
    if (header != null) {
      if (lockedFor(client) > 0) {
        refused(client, "bearer token");
        return Via.THROTTLED;
      }
      if (equal(header, "Bearer " + token)) {
        return Via.BEARER;
      }
      failed(client, "bearer token");
      return Via.NONE;
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
   * The login's token check, counted per address: {@code Via.BEARER} (it matches), {@code Via.NONE}
   * (it does not; a failure is counted and logged) or {@code Via.THROTTLED} (the address is locked
   * out; not compared).
   */
  Via login(String candidate, InetAddress client) {
    if (lockedFor(client) > 0) {
      refused(client, "login");
      return Via.THROTTLED;
    }
    if (equal(candidate, token)) {
      failures.invalidate(key(client));
      LOG.info("admin login from {}", client.getHostAddress());
      return Via.BEARER;
    }
    failed(client, "login");
    return Via.NONE;
  }

  /** Seconds until {@code client} may try a token again; 0 when it may now. */
  long lockedFor(InetAddress client) {
    Window w = failures.getIfPresent(key(client));
    long now = clock.millis();
    long end = w == null ? 0 : w.startMillis() + FAILURE_WINDOW.toMillis();
    if (w == null || w.failures() < MAX_TOKEN_FAILURES || now >= end) {
      return 0;
    }
    return Math.max(1, (end - now + 999) / 1000);
  }

  private void failed(InetAddress client, String what) {
    long now = clock.millis();
    Window w =
        failures
            .asMap()
            .compute(
                key(client),
                (k, old) ->
                    old == null || now >= old.startMillis() + FAILURE_WINDOW.toMillis()
                        ? new Window(now, 1, false)
                        : new Window(old.startMillis(), old.failures() + 1, old.refusalLogged()));
    if (w.failures() >= MAX_TOKEN_FAILURES) {
      warn(
          "admin {} refused from {}: wrong token ({} of {} allowed per {} s); tokens from"
              + " this address are refused for {} s",
          what,
          client.getHostAddress(),
          w.failures(),
          MAX_TOKEN_FAILURES,
          FAILURE_WINDOW.toSeconds(),
          lockedFor(client));
    } else {
      warn(
          "admin {} refused from {}: wrong token ({} of {} allowed per {} s)",
          what,
          client.getHostAddress(),
          w.failures(),
          MAX_TOKEN_FAILURES,
          FAILURE_WINDOW.toSeconds());
    }
  }

  private void refused(InetAddress client, String what) {
    boolean[] first = new boolean[1];
    failures
        .asMap()
        .computeIfPresent(
            key(client),
            (k, old) -> {
              first[0] = !old.refusalLogged();
              return new Window(old.startMillis(), old.failures(), true);
            });
    if (first[0]) {
      warn(
          "admin {} from {} refused unchecked (429): {} failures within {} s; retry in {}"
              + " s; further refusals in this window are not logged",
          what,
          client.getHostAddress(),
          MAX_TOKEN_FAILURES,
          FAILURE_WINDOW.toSeconds(),
          lockedFor(client));
    }
  }

  /**
   * The rate-limit key: the address, or an IPv6 address's /64 (what one host or customer holds).
   */
  private static InetAddress key(InetAddress a) {
    byte[] b = a.getAddress();
    if (b.length != 16) {
      return a;
    }
    Arrays.fill(b, 8, 16, (byte) 0);
    try {
      return InetAddress.getByAddress(b);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("16 bytes are an IPv6 address", e);
    }
  }

  // ---- sessions
  // --------------------------------------------------------------------------------

  /** A {@code Set-Cookie} value for a new session, now in the live table. */
  String newSessionCookie() {
    long expiry = clock.instant().plus(SESSION_LIFETIME).getEpochSecond();
    byte[] raw = new byte[SESSION_ID_BYTES];
    RANDOM.nextBytes(raw);
    String id = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    sessions.put(id, Boolean.TRUE);
    DefaultCookie c = new DefaultCookie(SESSION_COOKIE, expiry + "." + id + "." + mac(expiry, id));
    c.setHttpOnly(true);
    c.setSameSite(CookieHeaderNames.SameSite.Strict);
    c.setPath("/admin");
    c.setMaxAge(SESSION_LIFETIME.toSeconds());
    return ServerCookieEncoder.STRICT.encode(c);
  }

  /** Ends the sessions whose cookies this request carries; returns how many were live. */
  int revoke(HttpHeaders headers) {
    int revoked = 0;
    for (String line : headers.getAll(HttpHeaderNames.COOKIE)) {
      for (Cookie c : ServerCookieDecoder.STRICT.decode(line)) {
        if (c.name().equals(SESSION_COOKIE) && validSession(c.value())) {
          String v = c.value();
          sessions.invalidate(v.substring(v.indexOf('.') + 1, v.lastIndexOf('.')));
          revoked++;
        }
      }
    }
    return revoked;
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

  /** Whether {@code value} is a live session's cookie: unexpired, its MAC right, not revoked. */
  boolean validSession(String value) {
    int first = value.indexOf('.');
    int last = value.lastIndexOf('.');
    if (first <= 0 || last <= first + 1) {
      return false;
    }
    long expiry;
    try {
      expiry = Long.parseLong(value.substring(0, first));
    } catch (NumberFormatException e) {
      return false;
    }
    String id = value.substring(first + 1, last);
    return clock.instant().getEpochSecond() < expiry
        && equal(value.substring(last + 1), mac(expiry, id))
        && sessions.getIfPresent(id) != null;
  }

  private String mac(long expiry, String id) {
    try {
      Mac hmac = Mac.getInstance("HmacSHA256");
      hmac.init(new SecretKeySpec(PROCESS_KEY, "HmacSHA256"));
      hmac.update((expiry + "\n" + id + "\n").getBytes(StandardCharsets.UTF_8));
      byte[] out = hmac.doFinal(token.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
    }
  }

  private static boolean equal(String a, String b) {
    return MessageDigest.isEqual(
        a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  // ---- log
  // -------------------------------------------------------------------------------------

  /**
   * {@code value} fit to echo in a message or a log line: in single quotes, control characters as
   * '?' (no forged log lines), cut at 100 characters with "..." (no megabyte echoes).
   */
  static String quote(String value) {
    StringBuilder b = new StringBuilder(Math.min(value.length(), 100) + 5).append('\'');
    for (int i = 0; i < value.length() && i < 100; i++) {
      char c = value.charAt(i);
      b.append(Character.isISOControl(c) ? '?' : c);
    }
    return b.append(value.length() > 100 ? "...'" : "'").toString();
  }

  /** A WARN line under the process-wide cap; see {@link #WARN_LINES_PER_SECOND}. */
  void warn(String format, Object... args) {
    long dropped = warnLimit.admit();
    if (dropped < 0) {
      return;
    }
    if (dropped > 0) {
      LOG.warn(
          format + " ({} earlier admin warnings were dropped by the rate limit)",
          append(args, dropped));
    } else {
      LOG.warn(format, args);
    }
  }

  private static Object[] append(Object[] args, Object last) {
    Object[] out = Arrays.copyOf(args, args.length + 1);
    out[args.length] = last;
    return out;
  }
}
