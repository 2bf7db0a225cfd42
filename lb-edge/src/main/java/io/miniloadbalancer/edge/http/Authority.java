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
    int hostEnd = hostEnd(value);
    if (hostEnd < 0 || !validPort(value, hostEnd)) {
      return null;
    }
    boolean bracketed = value.startsWith("[");
    String host = bracketed ? value.substring(1, hostEnd - 1) : value.substring(0, hostEnd);
    int port = -1;
    if (value.length() > hostEnd + 1) { // "host:" is a valid (empty) port, RFC 3986 section 3.2.3
      port = Integer.parseInt(value, hostEnd + 1, value.length(), 10);
    }
    byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
    return new Authority(host.toLowerCase(Locale.ROOT), port, ip);
  }

  /**
   * Whether {@code value} is an authority, by the rules of {@link #parse} but without building one:
   * the data path checks every request's {@code Host} and needs only the answer.
   *
   * @param value a {@code Host} value
   * @return whether {@link #parse} would accept it
   */
  public static boolean isValid(String value) {
    int hostEnd = hostEnd(value);
    return hostEnd >= 0 && validPort(value, hostEnd);
  }

  /** Where the host part ends (after the bracket of an IPv6 literal), or -1 when it is invalid. */
  private static int hostEnd(String value) {
    if (value.startsWith("[")) {
      int close = value.indexOf(']');
      if (close < 0 || !NetUtil.isValidIpV6Address(value.substring(1, close))) {
        return -1;
      }
      return close + 1;
    }
    int colon = value.indexOf(':');
    int end = colon < 0 ? value.length() : colon;
    if (end == 0 || end > 253) {
      return -1;
    }
    for (int i = 0; i < end; i++) {
      if (!nameChar(value.charAt(i))) {
        return -1;
      }
    }
    return end;
  }

  /** Whether what follows the host is nothing, or ":" and at most five digits of 1..65535. */
  private static boolean validPort(String value, int hostEnd) {
    int length = value.length() - hostEnd;
    if (length == 0) {
      return true;
    }
    if (value.charAt(hostEnd) != ':' || length > 6) {
      return false;
    }
    int port = 0;
    for (int i = hostEnd + 1; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
      port = port * 10 + (c - '0');
    }
    return length == 1 || (port >= 1 && port <= 65_535);
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
