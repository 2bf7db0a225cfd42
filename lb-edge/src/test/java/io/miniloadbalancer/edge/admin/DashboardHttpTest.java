package io.miniloadbalancer.edge.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.miniloadbalancer.edge.DemoBackends;
import io.miniloadbalancer.edge.EdgeProxy;
import io.miniloadbalancer.edge.EnvironmentInfo;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.http.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The dashboard's HTTP contract on real loopback sockets: files, headers, the allow-list, and the
 * login, session-cookie and forgery rules of {@link AdminAuth}.
 */
class DashboardHttpTest {

  private static final String TOKEN = "http-test-token";

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
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

  private HttpResponse<String> send(String method, String path, String... headers)
      throws Exception {
    return send(method, path, HttpRequest.BodyPublishers.noBody(), headers);
  }

  private HttpResponse<String> send(
      String method, String path, HttpRequest.BodyPublisher body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.adminPort() + path))
            .method(method, body);
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> login(String form) throws Exception {
    return send(
        "POST",
        "/admin/ui/login",
        HttpRequest.BodyPublishers.ofString(form),
        "Content-Type",
        "application/x-www-form-urlencoded",
        AdminAuth.CSRF_HEADER,
        "1");
  }

  /** The raw request line, unnormalized by any client library; returns the status line. */
  private String rawStatus(String target) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), edge.adminPort())) {
      s.setSoTimeout(2_000);
      s.getOutputStream()
          .write(
              ("GET "
                      + target
                      + " HTTP/1.1\r\n"
                      + "Host: 127.0.0.1\r\n"
                      + "Connection: close\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      InputStream in = s.getInputStream();
      in.transferTo(got);
      String text = got.toString(StandardCharsets.ISO_8859_1);
      return text.substring(0, text.indexOf("\r\n"));
    }
  }

  @Test
  void filesComeFromTheJarWithTypesCachingAndAStrictPolicy() throws Exception {
    start(Map.of());
    Map<String, String> types =
        Map.of(
            "/admin/ui", "text/html; charset=utf-8",
            "/admin/ui/", "text/html; charset=utf-8",
            "/admin/ui/login", "text/html; charset=utf-8",
            "/admin/ui/app.js", "text/javascript; charset=utf-8",
            "/admin/ui/login.js", "text/javascript; charset=utf-8",
            "/admin/ui/app.css", "text/css; charset=utf-8",
            "/admin/ui/icon.svg", "image/svg+xml");
    for (Map.Entry<String, String> t : types.entrySet()) {
      HttpResponse<String> r = send("GET", t.getKey());
      assertThat(r.statusCode()).as(t.getKey()).isEqualTo(200);
      assertThat(r.headers().firstValue("content-type")).as(t.getKey()).hasValue(t.getValue());
      assertThat(r.headers().firstValue("x-content-type-options")).hasValue("nosniff");
      assertThat(r.headers().firstValue("cache-control")).hasValue("no-cache");
      assertThat(r.headers().firstValue("content-security-policy"))
          .hasValueSatisfying(
              csp ->
                  assertThat(csp)
                      .contains(
                          "default-src 'none'",
                          "script-src 'self'",
                          "style-src 'self'",
                          "frame-ancestors 'none'")
                      .doesNotContain("unsafe-inline", "unsafe-eval"));
      // Everything is bundled: no page or script reaches for another host (no CDN).
      assertThat(r.body()).as(t.getKey()).doesNotContain("https://", "//cdn");
      if (t.getValue().startsWith("text/html")) {
        assertThat(r.body())
            .as("no inline script or style: the policy would block it")
            .doesNotContainPattern("<script(?![^>]*\\ssrc=)")
            .doesNotContain("style=", "<style", "onclick=");
      }
    }

    HttpResponse<String> js = send("GET", "/admin/ui/app.js");
    String etag = js.headers().firstValue("etag").orElseThrow();
    HttpResponse<String> again = send("GET", "/admin/ui/app.js", "If-None-Match", etag);
    assertThat(again.statusCode()).isEqualTo(304);
    assertThat(again.body()).isEmpty();
    assertThat(send("GET", "/admin/ui/app.js", "If-None-Match", "\"other\"").statusCode())
        .isEqualTo(200);

    HttpResponse<String> unknown = send("GET", "/admin/ui/nope.js");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(unknown.body()).contains("no dashboard file 'nope.js'").contains("app.js");
    assertThat(send("POST", "/admin/ui/app.js").statusCode()).isEqualTo(405);
    assertThat(send("GET", "/admin/ui/logout").statusCode()).isEqualTo(405);
  }

  @Test
  void nothingOutsideTheAllowListIsReachable() throws Exception {
    start(Map.of());
    assertThat(rawStatus("/admin/ui/../../../etc/passwd")).endsWith("404 Not Found");
    assertThat(rawStatus("/admin/ui/..%2f..%2fEdgeProxy.class")).endsWith("404 Not Found");
    assertThat(rawStatus("/admin/ui/%2e%2e/logback.xml")).endsWith("404 Not Found");
    assertThat(rawStatus("/admin/ui/ui/app.js")).endsWith("404 Not Found");
    assertThat(rawStatus("/admin/ui/App.JS")).endsWith("404 Not Found");
    assertThat(rawStatus("/admin/ui/app.js")).endsWith("200 OK");
  }

  @Test
  void withATokenPagesRedirectToLoginApiSays401AndTheSessionCookieWorks() throws Exception {
    start(Map.of("EDGE_ADMIN_TOKEN", TOKEN));

    HttpResponse<String> page = send("GET", "/admin/ui");
    assertThat(page.statusCode()).isEqualTo(303);
    assertThat(page.headers().firstValue("location")).hasValue("/admin/ui/login");
    assertThat(send("GET", "/admin/ui/app.js").statusCode()).isEqualTo(303);
    assertThat(send("GET", "/admin/pools").statusCode()).isEqualTo(401);
    assertThat(send("GET", "/admin/ui/session").statusCode()).isEqualTo(401);
    assertThat(send("GET", "/admin/ui/login").statusCode())
        .as("the login page itself is public")
        .isEqualTo(200);
    assertThat(send("GET", "/admin/ui/app.css").statusCode()).isEqualTo(200);

    HttpResponse<String> wrong = login("token=nope");
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.body()).contains("wrong token");
    assertThat(wrong.headers().firstValue("set-cookie")).isEmpty();
    HttpResponse<String> missing = login("user=x");
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(missing.body()).contains("form field 'token' is required");

    HttpResponse<String> ok = login("token=" + TOKEN);
    assertThat(ok.statusCode()).isEqualTo(200);
    String setCookie = ok.headers().firstValue("set-cookie").orElseThrow();
    assertThat(setCookie)
        .startsWith(AdminAuth.SESSION_COOKIE + "=")
        .contains("HTTPOnly", "SameSite=Strict", "Path=/admin", "Max-Age=28800")
        .doesNotContain(TOKEN);
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));

    assertThat(send("GET", "/admin/pools", "Cookie", cookie).statusCode()).isEqualTo(200);
    HttpResponse<String> dashboard = send("GET", "/admin/ui/", "Cookie", cookie);
    assertThat(dashboard.statusCode()).isEqualTo(200);
    assertThat(dashboard.body()).contains("<script src=\"/admin/ui/app.js\"");
    JsonNode session =
        Json.MAPPER.readTree(send("GET", "/admin/ui/session", "Cookie", cookie).body());
    assertThat(session.get("authRequired").asBoolean()).isTrue();
    assertThat(session.get("via").asText()).isEqualTo("cookie");

    String drain = "/admin/pools/demo/endpoints/demo-a/drain";
    HttpResponse<String> forged = send("POST", drain, "Cookie", cookie);
    assertThat(forged.statusCode()).as("a cookie alone cannot change anything").isEqualTo(403);
    assertThat(forged.body()).contains(AdminAuth.CSRF_HEADER);
    HttpResponse<String> crossSite =
        send(
            "POST",
            drain,
            "Cookie",
            cookie,
            AdminAuth.CSRF_HEADER,
            "1",
            "Origin",
            "http://evil.example");
    assertThat(crossSite.statusCode()).isEqualTo(403);
    assertThat(crossSite.body()).contains("Origin 'http://evil.example'");
    String sameOrigin = "http://127.0.0.1:" + edge.adminPort();
    assertThat(
            send("POST", drain, "Cookie", cookie, AdminAuth.CSRF_HEADER, "1", "Origin", sameOrigin)
                .statusCode())
        .isEqualTo(202);
    assertThat(
            send(
                    "POST",
                    "/admin/pools/demo/endpoints/demo-a/undrain",
                    "Authorization",
                    "Bearer " + TOKEN)
                .statusCode())
        .as("scripts with the bearer token need no extra header")
        .isEqualTo(200);

    String value = cookie.substring(cookie.indexOf('=') + 1);
    String expiry = value.substring(0, value.indexOf('.'));
    String mac = value.substring(value.indexOf('.') + 1);
    String flipped = (mac.charAt(0) == 'A' ? "B" : "A") + mac.substring(1);
    assertThat(
            send(
                    "GET",
                    "/admin/pools",
                    "Cookie",
                    AdminAuth.SESSION_COOKIE + "=" + expiry + "." + flipped)
                .statusCode())
        .isEqualTo(401);
    long later = Long.parseLong(expiry) + 86_400 * 365;
    assertThat(
            send(
                    "GET",
                    "/admin/pools",
                    "Cookie",
                    AdminAuth.SESSION_COOKIE + "=" + later + "." + mac)
                .statusCode())
        .as("the expiry is under the MAC: extending it breaks the cookie")
        .isEqualTo(401);

    HttpResponse<String> logout =
        send("POST", "/admin/ui/logout", "Cookie", cookie, AdminAuth.CSRF_HEADER, "1");
    assertThat(logout.statusCode()).isEqualTo(200);
    assertThat(logout.headers().firstValue("set-cookie"))
        .hasValueSatisfying(c -> assertThat(c).contains("Max-Age=0"));
    assertThat(send("GET", "/admin/pools", "Cookie", cookie).statusCode())
        .as("logout revoked the session: a copy of the old cookie no longer works")
        .isEqualTo(401);
  }

  @Test
  void openLoopbackModeStillRefusesCrossSiteChanges() throws Exception {
    start(Map.of());
    String drain = "/admin/pools/demo/endpoints/demo-b/drain";
    HttpResponse<String> crossSite = send("POST", drain, "Origin", "http://evil.example");
    assertThat(crossSite.statusCode()).isEqualTo(403);
    assertThat(send("GET", "/admin/pools/demo").body()).doesNotContain("DRAINING");
    assertThat(send("POST", drain).statusCode()).as("curl sends no Origin").isEqualTo(202);
    HttpResponse<String> login = login("token=anything");
    assertThat(login.statusCode()).isEqualTo(200);
    assertThat(login.body()).contains("no token needed");
    assertThat(login.headers().firstValue("set-cookie")).isEmpty();
  }

  @Test
  void thePoolJsonCarriesRecentErrorRatesAndTheStrategies() throws Exception {
    start(Map.of());
    JsonNode first = Json.MAPPER.readTree(send("GET", "/admin/pools/demo").body());
    assertThat(first.get("strategies"))
        .extracting(JsonNode::asText)
        .contains("round-robin", "p2c-ewma", "maglev");
    assertThat(
            first.get("recentErrorRates").get("endpoints").get("demo-a").get("requests").asLong())
        .isZero();
    assertThat(first.get("endpoints").get(0).get("endpoint").get("id").asText())
        .as("the snapshot's own fields are unchanged")
        .isEqualTo("demo-a");
  }

  @Test
  void sessionsExpireAndDoNotSurviveATokenChange() {
    Instant t0 = Instant.parse("2026-11-27T10:00:00Z");
    EdgeConfig.Admin admin = new EdgeConfig.Admin("127.0.0.1", 0, TOKEN);
    MutableClock clock = new MutableClock(t0);
    AdminAuth auth = new AdminAuth(admin, clock);
    String cookie = auth.newSessionCookie();
    String value = cookie.substring(cookie.indexOf('=') + 1, cookie.indexOf(';'));
    assertThat(auth.validSession(value)).isTrue();
    clock.now = t0.plus(AdminAuth.SESSION_LIFETIME).minusSeconds(1);
    assertThat(auth.validSession(value)).isTrue();
    clock.now = t0.plus(AdminAuth.SESSION_LIFETIME);
    assertThat(auth.validSession(value)).isFalse();
    clock.now = t0;
    EdgeConfig.Admin rotated = new EdgeConfig.Admin("127.0.0.1", 0, "a-new-token");
    assertThat(new AdminAuth(rotated, clock).validSession(value)).isFalse();
    assertThat(new AdminAuth(admin, clock).validSession(value))
        .as("a session lives in the table of the proxy that issued it (a restart ends it)")
        .isFalse();
    assertThat(auth.validSession("garbage")).isFalse();
    assertThat(auth.validSession(".abc")).isFalse();
    assertThat(auth.validSession("1.2")).isFalse();
    assertThat(auth.validSession("..")).isFalse();
  }

  /** A settable clock: session expiry is read from it. */
  static final class MutableClock extends Clock {
    volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
