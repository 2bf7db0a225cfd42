package io.miniloadbalancer.edge.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The operator dashboard's files: plain HTML, CSS and JavaScript bundled in the jar under {@code
 * io/miniloadbalancer/edge/ui/}, read once at class load. Only the names in this fixed list are
 * ever served (no file system, no path from the request reaches a resource lookup), so there is no
 * path to traverse.
 */
final class DashboardAssets {

  /**
   * Every page's policy: scripts, styles, images and fetches from this origin only, no inline code,
   * no plugins, no framing, forms post only here.
   */
  static final String CONTENT_SECURITY_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src"
          + " 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

  /** The files anyone may load: the login page needs them before there is a session. */
  static final Set<String> PUBLIC = Set.of("login.html", "login.js", "app.css", "icon.svg");

  /** One bundled file. */
  record Asset(String name, String contentType, byte[] bytes, String etag) {}

  private static final Map<String, Asset> ASSETS = load();

  private DashboardAssets() {}

  /** The asset with this name, or null when it is not one of ours. */
  static @Nullable Asset get(String name) {
    return ASSETS.get(name);
  }

  /** The served names, for error messages. */
  static Set<String> names() {
    return ASSETS.keySet();
  }

  private static Map<String, Asset> load() {
    Map<String, String> types = new LinkedHashMap<>();
    types.put("index.html", "text/html; charset=utf-8");
    types.put("login.html", "text/html; charset=utf-8");
    types.put("app.js", "text/javascript; charset=utf-8");
    types.put("login.js", "text/javascript; charset=utf-8");
    types.put("app.css", "text/css; charset=utf-8");
    types.put("icon.svg", "image/svg+xml");
    Map<String, Asset> out = new LinkedHashMap<>();
    types.forEach(
        (name, type) -> {
          byte[] bytes = read(name);
          out.put(name, new Asset(name, type, bytes, etag(bytes)));
        });
    return Map.copyOf(out);
  }

  private static byte[] read(String name) {
    try (InputStream in = DashboardAssets.class.getResourceAsStream("ui/" + name)) {
      if (in == null) {
        throw new IllegalStateException("dashboard file ui/" + name + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read dashboard file ui/" + name, e);
    }
  }

  /** A strong validator: the content's hash, so a new jar's files are fetched again at once. */
  private static String etag(byte[] bytes) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
      return "\"" + HexFormat.of().formatHex(digest, 0, 16) + "\"";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
