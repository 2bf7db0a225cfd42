package io.miniloadbalancer.edge.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;

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
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool's affinity cookie, set by the proxy (HAProxy's {@code cookie ... insert indirect}), in one
 * of two modes.
 *
 * <p><b>Sealed</b> (the fleet has {@code sticky.keys}): the cookie itself carries the pinned
 * endpoint's id and when it was issued, sealed with HMAC-SHA256 under the first key: {@code
 * base64url(id) "." issuedAtSeconds(base 36) "." base64url(mac)}, the MAC over the pool, the id and
 * the time. Any proxy holding one of the keys honours it with no shared table, so a session holds
 * across a fleet behind a round-robin ALB. Every key verifies (rotation: add the new key second,
 * then move it first, then drop the old one). A cookie that fails the seal (tampered, or sealed
 * under a key no longer held) or is older than {@code idleTimeout} is treated as no cookie: the
 * request is balanced and the session re-pinned with a new cookie, counted as {@code invalid}. A
 * cookie past half its idle timeout is re-issued on its next response, so an active session does
 * not expire. The id is readable by the client (it is not encrypted) but cannot be forged, and an
 * id names only a member of the pool, never an address.
 *
 * <p><b>Table</b> (no keys: stickiness per process, with a one-time warning): the cookie carries an
 * opaque random token; a bounded, expiring table maps the token to the endpoint the session is
 * pinned to. The endpoint's address never reaches the client, and a client can only name a token,
 * never an endpoint, so the cookie cannot steer traffic outside the pool.
 *
 * <p>A pinned session stays on its endpoint while the endpoint is routable or draining ({@link
 * LoadBalancer#acquirePinned}); when it is refused (unhealthy, ejected, maintenance, removed, drain
 * settled) the request is balanced normally and the session re-pinned to where it went, keeping its
 * token. The cookie is for the proxy only and is removed from the request sent upstream.
 */
final class StickySessions {

  /** The meter counting affinity decisions, tagged {@code pool} and {@code result}. */
  static final String METER = "edge.affinity";

  private static final Logger LOG = LoggerFactory.getLogger(StickySessions.class);
  private static final AtomicBoolean WARNED = new AtomicBoolean();
  private static final SecureRandom TOKENS = new SecureRandom();
  private static final int TOKEN_CHARS = 22; // 128 random bits, base64url without padding
  private static final int MAX_SEALED_CHARS = 512;
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final EdgeConfig.Sticky config;
  private final String cookieName;
  private final @Nullable Boolean secure;
  private final CookieHeaderNames.SameSite sameSite;
  private final Cache<String, String> pins;
  private final Counter pinned;
  private final Counter moved;
  private final Counter started;
  private final Counter invalid;
  private final String pool;
  private final List<SecretKeySpec> keys;
  private final ThreadLocal<Mac[]> macs;
  private final long idleSeconds;
  private final Clock clock;

  StickySessions(String pool, EdgeConfig.Sticky config, MeterRegistry registry) {
    this(pool, config, registry, List.of(), Clock.systemUTC());
  }

  /**
   * A pool's affinity cookie; sealed when {@code keys} is not empty (the first seals, all verify).
   */
  StickySessions(
      String pool,
      EdgeConfig.Sticky config,
      MeterRegistry registry,
      List<String> keys,
      Clock clock) {
    this.pool = pool;
    this.clock = clock;
    this.keys =
        keys.stream()
            .map(k -> new SecretKeySpec(k.getBytes(StandardCharsets.UTF_8), "HmacSHA256"))
            .toList();
    this.macs = ThreadLocal.withInitial(this::newMacs);
    this.idleSeconds = Math.max(1, config.idleTimeout().toSeconds());
    if (keys.isEmpty() && WARNED.compareAndSet(false, true)) {
      LOG.warn(
          "sticky sessions are per process: a session that reaches another proxy of the fleet is"
              + " re-pinned; set sticky.keys (EDGE_STICKY_KEYS) to seal the endpoint into the"
              + " cookie so every proxy honours it");
    }
    this.config = config;
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
    this.invalid = counter(registry, pool, "invalid");
  }

  private Mac[] newMacs() {
    Mac[] out = new Mac[keys.size()];
    for (int i = 0; i < out.length; i++) {
      try {
        out[i] = Mac.getInstance("HmacSHA256");
        out[i].init(keys.get(i));
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
      }
    }
    return out;
  }

  /** Whether the cookie carries its endpoint under a seal (the fleet shares keys). */
  boolean sealed() {
    return !keys.isEmpty();
  }

  private static Counter counter(MeterRegistry registry, String pool, String result) {
    return Counter.builder(METER)
        .description(
            "Requests of pools with an affinity cookie, by what the cookie did: pinned"
                + " (went to its endpoint), moved (its endpoint refused it: re-pinned),"
                + " new (no known session), invalid (a sealed cookie that failed its seal or"
                + " expired: re-pinned)")
        .tag("pool", pool)
        .tag("result", result)
        .register(registry);
  }

  /** The settings this table was built from (a reload keeps the table when they are unchanged). */
  EdgeConfig.Sticky config() {
    return config;
  }

  /** The request's well-formed affinity token, or {@code null}. */
  @Nullable String token(HttpHeaders headers) {
    for (String header : headers.getAll(HttpHeaderNames.COOKIE)) {
      if (!header.contains(cookieName)) {
        continue;
      }
      for (Cookie c : ServerCookieDecoder.LAX.decode(header)) {
        if (c.name().equals(cookieName)
            && (sealed() ? c.value().length() <= MAX_SEALED_CHARS : wellFormed(c.value()))) {
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

  /**
   * The endpoint a token is pinned to; counts the request as new when there is none, or as invalid
   * when a sealed cookie fails its seal or has expired.
   */
  @Nullable String pinnedEndpoint(@Nullable String token) {
    if (sealed() && token != null) {
      String id = unseal(token);
      if (id == null) {
        invalid.increment();
      }
      return id;
    }
    String id = token == null ? null : pins.getIfPresent(token);
    if (id == null) {
      started.increment();
    }
    return id;
  }

  /** A sealed cookie's endpoint id, or null when it is malformed, forged, unknown or expired. */
  private @Nullable String unseal(String token) {
    int dot1 = token.indexOf('.');
    int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 <= dot1 + 1 || dot2 == token.length() - 1) {
      return null;
    }
    try {
      String id = new String(Base64.getUrlDecoder().decode(token.substring(0, dot1)), UTF_8);
      long issued = Long.parseLong(token.substring(dot1 + 1, dot2), 36);
      byte[] mac = Base64.getUrlDecoder().decode(token.substring(dot2 + 1));
      long age = clock.instant().getEpochSecond() - issued;
      if (age < -60 || age > idleSeconds) {
        return null; // expired, or issued in the future beyond clock skew
      }
      for (Mac m : macs.get()) {
        if (MessageDigest.isEqual(mac, seal(m, id, issued))) {
          return id;
        }
      }
      return null;
    } catch (IllegalArgumentException e) {
      return null; // not base64url, or not a number
    }
  }

  private byte[] seal(Mac mac, String id, long issued) {
    mac.update(pool.getBytes(UTF_8));
    mac.update((byte) 0);
    mac.update(id.getBytes(UTF_8));
    mac.update((byte) 0);
    return mac.doFinal(Long.toString(issued, 36).getBytes(UTF_8));
  }

  /**
   * Whether a session served by its pinned endpoint should get its cookie again: a sealed cookie
   * past half its idle timeout (so an active session never expires). Called only for a token that
   * was unsealed already.
   */
  boolean needsRefresh(@Nullable String token) {
    if (!sealed() || token == null) {
      return false;
    }
    int dot1 = token.indexOf('.');
    int dot2 = token.indexOf('.', dot1 + 1);
    long issued = Long.parseLong(token.substring(dot1 + 1, dot2), 36);
    return clock.instant().getEpochSecond() - issued > idleSeconds / 2;
  }

  /**
   * Pins the session to {@code endpointId}; returns the {@code Set-Cookie} value the response must
   * carry, or null when the client's cookie stays valid (table mode with a known token).
   */
  @Nullable String repin(@Nullable String token, String endpointId, HttpHeaders request) {
    if (sealed()) {
      long now = clock.instant().getEpochSecond();
      String value =
          B64.encodeToString(endpointId.getBytes(UTF_8))
              + "."
              + Long.toString(now, 36)
              + "."
              + B64.encodeToString(seal(macs.get()[0], endpointId, now));
      return setCookie(value, request);
    }
    String kept = token != null ? token : newToken();
    pins.put(kept, endpointId);
    return token != null ? null : setCookie(kept, request);
  }

  /** Counts the outcome of trying the pinned endpoint. */
  void pinnedResult(boolean admitted) {
    (admitted ? pinned : moved).increment();
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
