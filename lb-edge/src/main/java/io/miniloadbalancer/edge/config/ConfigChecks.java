package io.miniloadbalancer.edge.config;

import io.netty.util.NetUtil;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The checks {@link EdgeConfig}'s sections share; each error names its key. */
final class ConfigChecks {

  /**
   * A DNS name (labels of letters, digits, '-'), an IPv4 literal, or a bracketed IPv6 literal, then
   * an optional port of 1-5 digits; the range and the literal are checked by the admin plane.
   */
  private static final String ALLOWED_HOST =
      "(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
          + "|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?";

  private ConfigChecks() {}

  /**
   * What no one section can check alone: pool names, Consul pools without a {@code consul} section,
   * routes to unknown pools, and an admin plane off loopback without a token.
   */
  static void wholeConfig(
      EdgeConfig.Admin admin,
      EdgeConfig.@Nullable Consul consul,
      Map<String, EdgeConfig.Pool> pools,
      List<EdgeConfig.Route> routes) {
    for (Map.Entry<String, EdgeConfig.Pool> p : pools.entrySet()) {
      if (!p.getKey().matches("[A-Za-z0-9_.-]{1,64}")) {
        throw new IllegalArgumentException(
            "pool name '" + p.getKey() + "' must be 1-64 of letters, digits, '_', '.', '-'");
      }
      if (p.getValue().consulService() != null && consul == null) {
        throw new IllegalArgumentException(
            "pool '" + p.getKey() + "' uses consulService but there is no 'consul' section");
      }
    }
    for (EdgeConfig.Route r : routes) {
      if (!pools.containsKey(r.pool())) {
        throw new IllegalArgumentException(
            "route '" + r.prefix() + "' names pool '" + r.pool() + "', which is not configured");
      }
    }
    boolean loopback = AddressRanges.isLoopback(admin.bind());
    if (!loopback && admin.token().isEmpty()) {
      throw new IllegalArgumentException(
          "admin.token is required when admin.bind ("
              + admin.bind()
              + ") is not a loopback"
              + " address (set EDGE_ADMIN_TOKEN)");
    }
  }

  /** {@code consul.register.service}: a DNS label. */
  static void serviceName(String service) {
    if (!service.matches("[A-Za-z0-9-]{1,64}")) {
      throw new IllegalArgumentException(
          "consul.register.service must be 1-64 letters, digits or '-' (a DNS label),"
              + " was '"
              + service
              + "'");
    }
  }

  /** {@code admin.allowedHosts}: host names or IP literals, each with an optional port. */
  static void allowedHosts(List<String> allowedHosts) {
    for (int i = 0; i < allowedHosts.size(); i++) {
      String h = allowedHosts.get(i);
      int close = h == null ? -1 : h.lastIndexOf(']');
      int colon = h == null ? -1 : h.lastIndexOf(':');
      boolean hasPort = colon > close;
      boolean valid =
          h != null
              && h.matches(ALLOWED_HOST)
              && (close < 0 || NetUtil.isValidIpV6Address(h.substring(1, close)))
              && (!hasPort
                  || Integer.parseInt(h.substring(colon + 1)) >= 1
                      && Integer.parseInt(h.substring(colon + 1)) <= 65_535);
      if (!valid) {
        throw new IllegalArgumentException(
            "admin.allowedHosts["
                + i
                + "] must be a host name or IP literal with an optional"
                + " :port in 1..65535 (no scheme, path or wildcard), was '"
                + h
                + "'");
      }
    }
  }

  /** {@code pools.<name>.hashKey}: {@code header:<name>}, {@code cookie:<name>} or none. */
  static void hashKey(@Nullable String hashKey) {
    if (hashKey != null
        && !(hashKey.equals("client-address")
            || hashKey.matches("header:[!#$%&'*+.^_`|~0-9A-Za-z-]+")
            || hashKey.matches("cookie:[!#$%&'*+.^_`|~0-9A-Za-z-]+"))) {
      throw new IllegalArgumentException(
          "hashKey must be header:<name>, cookie:<name> or client-address, was '" + hashKey + "'");
    }
  }

  /** {@code routes[].prefix}: a path that does not shadow a built-in one. */
  static void routePrefix(@Nullable String prefix) {
    if (prefix == null || !prefix.startsWith("/")) {
      throw new IllegalArgumentException("route prefix must start with '/'");
    }
    if (prefix.startsWith("/admin")
        || prefix.startsWith("/proxy/")
        || prefix.equals("/healthz")
        || prefix.equals("/readyz")) {
      throw new IllegalArgumentException("route prefix '" + prefix + "' shadows a built-in path");
    }
  }

  /** {@code value} lower-cased ({@code dflt} when absent), when it is one of {@code allowed}. */
  static String oneOf(@Nullable String value, String dflt, List<String> allowed, String key) {
    String v = value != null ? value.toLowerCase(Locale.ROOT) : dflt;
    if (!allowed.contains(v)) {
      throw new IllegalArgumentException(
          key + " must be one of " + String.join(", ", allowed) + ", was '" + value + "'");
    }
    return v;
  }

  static int checkPort(int port, String key) {
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException(key + " must be in 1..65535, was " + port);
    }
    return port;
  }

  static int atLeast(int value, int min, String key) {
    if (value < min) {
      throw new IllegalArgumentException(key + " must be at least " + min + ", was " + value);
    }
    return value;
  }

  static Duration positive(Duration d, String key) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(key + " must be positive, was " + d);
    }
    return d;
  }

  static Duration nonNegative(Duration d, String key) {
    if (d.isNegative()) {
      throw new IllegalArgumentException(key + " must not be negative, was " + d);
    }
    return d;
  }

  /**
   * A pool's health and outlier keys agree: one health-check path (the shorthand or the block's),
   * settings only where the feature is on.
   */
  static void healthAndOutliers(
      @Nullable String healthCheckPath,
      @Nullable HealthCheckSettings healthCheck,
      boolean outlierDetection,
      @Nullable OutlierSettings outlier) {
    if (healthCheck != null && healthCheck.path() != null && healthCheckPath != null) {
      throw new IllegalArgumentException(
          "healthCheckPath and healthCheck.path both set; keep one (healthCheckPath is the"
              + " shorthand for healthCheck.path)");
    }
    if (healthCheck != null && healthCheck.path() == null && healthCheckPath == null) {
      throw new IllegalArgumentException(
          "healthCheck needs a path (healthCheck.path or healthCheckPath): active checks are off"
              + " without one");
    }
    if (outlier != null && !outlierDetection) {
      throw new IllegalArgumentException(
          "outlier settings given but outlierDetection is false; remove one of them");
    }
  }
}
