package io.miniloadbalancer.edge.admin;

import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A request's target, split and decoded: path segments are percent-decoded one by one (so {@code
 * %2F} in a pool or endpoint id stays inside its segment) and strictly; a bad escape or invalid
 * UTF-8 is a {@link BadInput}.
 *
 * @param path the decoded path, segments joined by '/'
 * @param segments the decoded segments
 * @param params the decoded query parameters
 */
record Target(String path, List<String> segments, Map<String, List<String>> params) {

  /**
   * The path split at '/' before decoding (an encoded '/' stays in its segment), each segment and
   * the query decoded as strict UTF-8.
   *
   * @throws BadInput naming the part that is malformed
   */
  static Target parse(String uri) {
    int q = uri.indexOf('?');
    String rawPath = q < 0 ? uri : uri.substring(0, q);
    if (!rawPath.startsWith("/")) {
      throw new BadInput("the request target must be a path starting with '/'");
    }
    List<String> segments = new ArrayList<>();
    StringBuilder path = new StringBuilder();
    for (String raw : rawPath.substring(1).split("/")) {
      String s = decodeSegment(raw);
      segments.add(s);
      path.append('/').append(s);
    }
    if (segments.size() == 1 && segments.get(0).isEmpty()) {
      segments.clear();
    }
    Map<String, List<String>> params = Map.of();
    if (q >= 0) {
      String query = uri.substring(q + 1);
      try {
        params = new QueryStringDecoder(query, StandardCharsets.UTF_8, false).parameters();
      } catch (IllegalArgumentException e) {
        throw new BadInput("the query string has a bad percent-escape");
      }
      for (Map.Entry<String, List<String>> p : params.entrySet()) {
        for (String v : p.getValue()) {
          if (v.indexOf('\uFFFD') >= 0 || hasControl(v) || hasControl(p.getKey())) {
            throw new BadInput(
                "query parameter "
                    + AdminAuth.quote(p.getKey())
                    + " has a control character or invalid UTF-8");
          }
        }
      }
    }
    return new Target(path.length() == 0 ? "/" : path.toString(), List.copyOf(segments), params);
  }

  private static String decodeSegment(String raw) {
    if (raw.indexOf('%') < 0) {
      if (hasControl(raw)) {
        throw new BadInput("the path has a control character");
      }
      return raw;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
        int lo = hi >= 0 ? Character.digit(raw.charAt(i + 2), 16) : -1;
        if (lo < 0) {
          throw new BadInput(
              "the path has a bad percent-escape at "
                  + AdminAuth.quote(raw.substring(i, Math.min(raw.length(), i + 3))));
        }
        bytes.write(hi << 4 | lo);
        i += 2;
      } else if (c > 0x7f) {
        throw new BadInput("the path has a raw non-ASCII character; percent-encode it");
      } else {
        bytes.write(c);
      }
    }
    String s = utf8(ByteBuffer.wrap(bytes.toByteArray()), "the path");
    if (hasControl(s)) {
      throw new BadInput("the path has an encoded control character");
    }
    return s;
  }

  static String utf8(ByteBuffer bytes, String what) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(bytes)
          .toString();
    } catch (CharacterCodingException e) {
      throw new BadInput(what + " is not valid UTF-8");
    }
  }

  private static boolean hasControl(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isISOControl(s.charAt(i))) {
        return true;
      }
    }
    return false;
  }
}
