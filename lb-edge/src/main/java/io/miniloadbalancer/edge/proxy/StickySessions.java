package io.miniloadbalancer.edge.proxy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.CookieHeaderNames;
import io.netty.handler.codec.http.cookie.DefaultCookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieEncoder;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A pool's affinity cookie, set by the proxy (HAProxy's {@code cookie ... insert indirect}): the
 * cookie carries an opaque random token; a bounded, expiring table maps the token to the endpoint
 * the session is pinned to. The endpoint's address never reaches the client, and a client can only
 * name a token, never an endpoint, so the cookie cannot steer traffic outside the pool.
 *
 * <p>A pinned session stays on its endpoint while the endpoint is routable or draining ({@link
 * LoadBalancer#acquirePinned}); when it is refused (unhealthy, ejected, maintenance, removed, drain
 * settled) the request is balanced normally and the session re-pinned to where it went, keeping its
 * token. The cookie is for the proxy only and is removed from the request sent upstream.
 */
final class StickySessions {

  /** The meter counting affinity decisions, tagged {@code pool} and {@code result}. */
  static final String METER = "edge.affinity";

  private static final SecureRandom TOKENS = new SecureRandom();
  private static final int TOKEN_CHARS = 22; // 128 random bits, base64url without padding

  private final String cookieName;
  private final @Nullable Boolean secure;
  private final CookieHeaderNames.SameSite sameSite;
  private final Cache<String, String> pins;
  private final Counter pinned;
  private final Counter moved;
  private final Counter started;

  StickySessions(String pool, EdgeConfig.Sticky config, MeterRegistry registry) {
    this.cookieName = config.cookie() != null ? config.cookie() : "edge_" + pool;
    this.secure = config.secure();
    this.sameSite = CookieHeaderNames.SameSite.valueOf(config.sameSite());
    this.pins =
        Caffeine.newBuilder()
            .maximumSize(config.maxSessions())
            .expireAfterAccess(config.idleTimeout())
            .build();
    this.pinned = counter(registry, pool, "pinned");
    this.moved = counter(registry, pool, "moved");
    this.started = counter(registry, pool, "new");
  }

  private static Counter counter(MeterRegistry registry, String pool, String result) {
    return Counter.builder(METER)
        .description(
            "Requests of pools with an affinity cookie, by what the cookie did: pinned"
                + " (went to its endpoint), moved (its endpoint refused it: re-pinned),"
                + " new (no known session)")
        .tag("pool", pool)
        .tag("result", result)
        .register(registry);
  }

  /** The request's well-formed affinity token, or {@code null}. */
  @Nullable String token(HttpHeaders headers) {
    for (String header : headers.getAll(HttpHeaderNames.COOKIE)) {
      if (!header.contains(cookieName)) {
        continue;
      }
      for (Cookie c : ServerCookieDecoder.LAX.decode(header)) {
        if (c.name().equals(cookieName) && wellFormed(c.value())) {
          return c.value();
        }
      }
    }
    return null;
  }

  private static boolean wellFormed(String token) {
    if (token.length() != TOKEN_CHARS) {
      return false;
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (!(Character.isLetterOrDigit(c) && c < 128) && c != '-' && c != '_') {
        return false;
      }
    }
    return true;
  }

  /** The endpoint a token is pinned to; counts the request as new when there is none. */
  @Nullable String pinnedEndpoint(@Nullable String token) {
    String id = token == null ? null : pins.getIfPresent(token);
    if (id == null) {
      started.increment();
    }
    return id;
  }

  /** Counts the outcome of trying the pinned endpoint. */
  void pinnedResult(boolean admitted) {
    (admitted ? pinned : moved).increment();
  }

  /** Pins {@code token} to {@code endpointId}. */
  void pin(String token, String endpointId) {
    pins.put(token, endpointId);
  }

  /** A fresh random token. */
  static String newToken() {
    byte[] bytes = new byte[16];
    TOKENS.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /**
   * The {@code Set-Cookie} value for a new token: a session cookie (no Max-Age: the table's idle
   * timeout is the session's real lifetime), HttpOnly (scripts have no use for it), the configured
   * SameSite (default Lax), Path=/, and Secure when configured, when SameSite is None (browsers
   * require it), or by default when the client came over HTTPS as the ALB's {@code
   * X-Forwarded-Proto} says.
   */
  String setCookie(String token, HttpHeaders request) {
    DefaultCookie c = new DefaultCookie(cookieName, token);
    c.setPath("/");
    c.setHttpOnly(true);
    c.setSameSite(sameSite);
    boolean https = "https".equalsIgnoreCase(request.get("x-forwarded-proto"));
    c.setSecure(sameSite == CookieHeaderNames.SameSite.None || (secure != null ? secure : https));
    return ServerCookieEncoder.STRICT.encode(c);
  }

  /**
   * Removes the affinity cookie from a request going upstream (it is the proxy's, not the app's).
   * Only its own {@code name=value} pairs are cut out of the header text; the application's cookies
   * pass byte for byte.
   */
  void strip(HttpHeaders upstream) {
    List<String> headers = upstream.getAll(HttpHeaderNames.COOKIE);
    if (headers.isEmpty() || headers.stream().noneMatch(h -> h.contains(cookieName))) {
      return;
    }
    List<String> kept = new ArrayList<>();
    for (String header : headers) {
      StringBuilder rest = new StringBuilder();
      for (String pair : header.split(";")) {
        String trimmed = pair.strip();
        int eq = trimmed.indexOf('=');
        String name = eq < 0 ? trimmed : trimmed.substring(0, eq).strip();
        if (trimmed.isEmpty() || name.equals(cookieName)) {
          continue;
        }
        rest.append(rest.length() == 0 ? "" : "; ").append(trimmed);
      }
      if (rest.length() > 0) {
        kept.add(rest.toString());
      }
    }
    upstream.remove(HttpHeaderNames.COOKIE);
    if (!kept.isEmpty()) {
      upstream.set(HttpHeaderNames.COOKIE, String.join("; ", kept));
    }
  }
}
