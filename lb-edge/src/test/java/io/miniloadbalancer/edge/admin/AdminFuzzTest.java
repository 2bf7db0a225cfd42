package io.miniloadbalancer.edge.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.edge.DemoBackends;
import io.miniloadbalancer.edge.EdgeProxy;
import io.miniloadbalancer.edge.EnvironmentInfo;
import io.miniloadbalancer.edge.RawHttp;
import io.miniloadbalancer.edge.config.ConfigFiles;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every admin route, every method, hostile values in every path segment, query parameter and form
 * field: no answer may be a 5xx, carry a Java class name, or be missing (a connection closed or
 * hung without a response). A deterministic generated table (not random), so a failure reproduces
 * by its row; each row is one request on a fresh connection, as raw bytes (values go out as the
 * attacker wrote them: raw UTF-8, bad escapes, control characters).
 */
class AdminFuzzTest {

  private static final String TOKEN = "fuzz-test-token";

  private static final List<String> METHODS =
      List.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

  /**
   * Values an attacker or a careless script sends: numbers, durations, encodings, traversal, size.
   */
  private static final List<String> HOSTILE =
      List.of(
          "",
          "0",
          "-1",
          "99999999999999999999",
          "9223372036854775808",
          "1e309",
          "NaN",
          "PT5S",
          "PT-5S",
          "-5s",
          "999999999h",
          "99999999999h",
          "%zz",
          "%",
          "%C0%AF",
          "%FF%FE",
          "%00",
          "%0D%0ASet-Cookie:%20x=1",
          "..",
          "../../../etc/passwd",
          "%2e%2e%2f%2e%2e%2f",
          "..%2F..%2Fadmin",
          "a".repeat(4_000),
          "%C3%A9t%C3%A9",
          "\u00e9t\u00e9", // raw UTF-8 in the request line
          "\uD83D\uDCA5",
          "<script>alert(1)</script>",
          "'%20OR%201=1",
          "true",
          "demo",
          "demo-a",
          "round-robin",
          "a%2Fb",
          "+");

  /** Route templates; {v} is replaced by each hostile value. */
  private static final List<String> ROUTES =
      List.of(
          "/admin",
          "/admin/{v}",
          "/admin/pools?{v}={v}",
          "/admin/config?x={v}",
          "/admin/env",
          "/admin/pools/{v}",
          "/admin/pools/demo/{v}",
          "/admin/pools/{v}/transitions",
          "/admin/pools/demo/transitions?limit={v}",
          "/admin/pools/demo/explain?client={v}&header.x={v}&cookie.y={v}",
          "/admin/pools/demo/strategy?name={v}",
          "/admin/pools/demo/endpoints/{v}/drain",
          "/admin/pools/demo/endpoints/demo-a/drain?timeout={v}",
          "/admin/pools/demo/endpoints/demo-b/{v}",
          "/admin/pools/demo/endpoints/demo-c/undrain?{v}={v}",
          "/admin/pools/demo/endpoints/demo-c/maint?on={v}&reason={v}",
          "/admin/pools/demo/endpoints/{v}/{v}/{v}",
          "/admin/ui/{v}",
          "/admin/ui/login?token={v}",
          "/admin/ui/logout",
          "/admin/ui/session?{v}",
          "/metrics?{v}",
          "/healthz?{v}",
          "/readyz",
          "/{v}");

  private DemoBackends backends;
  private EdgeProxy edge;

  @AfterEach
  void stop() {
    if (edge != null) {
      edge.close();
    }
    if (backends != null) {
      backends.close();
    }
  }

  private void start(Map<String, String> env) throws Exception {
    backends = new DemoBackends(3);
    String yaml = backends.config(0, 0).replace("    healthCheckPath: /healthz\n", "");
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", env), EnvironmentInfo.none());
  }

  @Test
  void everyRouteMethodAndHostileValueGetsA4xxOrBetterInTheOpenMode() throws Exception {
    start(Map.of());
    List<String> failures = new ArrayList<>();
    int sent = 0;
    for (String route : ROUTES) {
      for (String value : HOSTILE) {
        String target = route.replace("{v}", value);
        for (String method : METHODS) {
          sent++;
          check(method, target, "token=" + value, List.of(), failures);
        }
      }
    }
    assertThat(sent).isEqualTo(ROUTES.size() * HOSTILE.size() * METHODS.size());
    assertThat(failures).as("of %d requests", sent).isEmpty();
    assertThat(edge.state()).isEqualTo("ready");
  }

  @Test
  void theAuthenticatedRoutesWithATokenCookieAndHostileCredentials() throws Exception {
    start(Map.of("EDGE_ADMIN_TOKEN", TOKEN));
    List<String> failures = new ArrayList<>();
    List<List<String>> credentials =
        List.of(
            List.of("Authorization: Bearer " + TOKEN),
            List.of("Authorization: Bearer "),
            List.of("Authorization: Basic Zm9vOmJhcg=="),
            List.of("Cookie: " + AdminAuth.SESSION_COOKIE + "=9999999999999999999999.x.y"),
            List.of("Cookie: " + AdminAuth.SESSION_COOKIE + "=..", AdminAuth.CSRF_HEADER + ": 1"),
            List.of(
                "Cookie: " + AdminAuth.SESSION_COOKIE + "=\u00e9\u00e9.%zz",
                "Origin: http://evil.example"),
            List.of("Origin: null", "Authorization: Bearer " + TOKEN));
    for (String route : ROUTES) {
      for (String value : HOSTILE.subList(0, 20)) {
        for (List<String> c : credentials) {
          check("POST", route.replace("{v}", value), "token=" + value, c, failures);
          check("GET", route.replace("{v}", value), "", c, failures);
        }
      }
    }
    assertThat(failures).isEmpty();
  }

  private void check(
      String method, String target, String form, List<String> headers, List<String> failures)
      throws Exception {
    ByteArrayOutputStream req = new ByteArrayOutputStream();
    byte[] body =
        method.equals("GET") || method.equals("HEAD")
            ? new byte[0]
            : form.getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder();
    head.append("Host: 127.0.0.1:").append(edge.adminPort()).append("\r\n");
    for (String h : headers) {
      head.append(h).append("\r\n");
    }
    head.append("Content-Type: application/x-www-form-urlencoded\r\n");
    head.append("Content-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
    req.writeBytes((method + " ").getBytes(StandardCharsets.ISO_8859_1));
    req.writeBytes(target.getBytes(StandardCharsets.UTF_8));
    req.writeBytes((" HTTP/1.1\r\n" + head).getBytes(StandardCharsets.UTF_8));
    req.writeBytes(body);
    RawHttp.Reply r = RawHttp.send(edge.adminPort(), req.toByteArray());
    String row =
        method
            + " "
            + (target.length() > 80 ? target.substring(0, 80) + "..." : target)
            + " "
            + headers;
    if (r.status() < 0) {
      failures.add(
          row
              + ": no answer"
              + (r.timedOut() ? " (hung)" : " (closed)")
              + ": "
              + abbreviate(r.raw()));
    } else if (r.status() >= 500) {
      failures.add(row + ": " + r.status() + " " + abbreviate(r.body()));
    } else if (r.body().contains("Exception") || r.body().contains("java.")) {
      failures.add(row + ": a Java name in the body: " + abbreviate(r.body()));
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }
}
