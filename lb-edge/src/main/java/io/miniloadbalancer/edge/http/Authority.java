package io.miniloadbalancer.edge.http;

import io.netty.util.NetUtil;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A parsed {@code Host} (or Origin authority): RFC 3986 host [":" port], a reg-name, IPv4 or
 * bracketed IPv6 literal; no userinfo, no path. The one parser of Host values, for the data path's
 * Host rule and the admin plane's allow-list alike.
 *
 * @param host the host, lower-cased (an IPv6 literal without its brackets)
 * @param port the port, or -1 when absent (or empty, which RFC 3986 3.2.3 allows)
 * @param ip the literal's bytes, or null for a name
 */
public record Authority(String host, int port, byte @Nullable [] ip) {

  /**
   * {@code value} as an authority.
   *
   * @param value a {@code Host} value or the part of an origin after {@code ://}
   * @return the authority, or null when {@code value} is not one
   */
  public static @Nullable Authority parse(String value) {
    String host;
    String rest;
    if (value.startsWith("[")) {
      int close = value.indexOf(']');
      if (close < 0 || !NetUtil.isValidIpV6Address(value.substring(1, close))) {
        return null;
      }
      host = value.substring(1, close);
      rest = value.substring(close + 1);
    } else {
      int colon = value.indexOf(':');
      host = colon < 0 ? value : value.substring(0, colon);
      rest = colon < 0 ? "" : value.substring(colon);
      if (host.isEmpty() || host.length() > 253 || !host.chars().allMatch(Authority::nameChar)) {
        return null;
      }
    }
    int port = -1;
    if (!rest.isEmpty()) {
      if (!rest.startsWith(":")
          || rest.length() > 6
          || !rest.substring(1).chars().allMatch(c -> c >= '0' && c <= '9')) {
        return null;
      }
      if (rest.length() > 1) { // "host:" is a valid (empty) port, RFC 3986 section 3.2.3
        port = Integer.parseInt(rest.substring(1));
        if (port < 1 || port > 65_535) {
          return null;
        }
      }
    }
    byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
    return new Authority(host.toLowerCase(Locale.ROOT), port, ip);
  }

  private static boolean nameChar(int c) {
    return c >= 'a' && c <= 'z'
        || c >= 'A' && c <= 'Z'
        || c >= '0' && c <= '9'
        || c == '-'
        || c == '.'
        || c == '_';
  }

  /**
   * A field value without its leading and trailing SP/HTAB (RFC 9110 5.6.3 OWS); String.trim would
   * also eat NUL and CR.
   *
   * @param s a field value
   * @return {@code s} without surrounding optional whitespace
   */
  public static String stripOws(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && (s.charAt(start) == ' ' || s.charAt(start) == '\t')) {
      start++;
    }
    while (end > start && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
      end--;
    }
    return s.substring(start, end);
  }
}
