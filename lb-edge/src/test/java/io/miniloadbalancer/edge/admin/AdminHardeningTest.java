package io.miniloadbalancer.edge.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import io.miniloadbalancer.edge.DemoBackends;
import io.miniloadbalancer.edge.EdgeProxy;
import io.miniloadbalancer.edge.EnvironmentInfo;
import io.miniloadbalancer.edge.RawHttp;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.http.Json;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The admin plane against a hostile browser page and a hostile client, on real loopback sockets
 * with the real proxy: DNS rebinding ({@code Host}), cross-site changes ({@code Origin}), token
 * guessing, logout, and bad parameters. Requests are raw bytes, so {@code Host} and {@code Origin}
 * are exactly what an attacker's page or script would send.
 */
class AdminHardeningTest {

  private static final String TOKEN = "hardening-test-token";

  private DemoBackends backends;
  private EdgeProxy edge;
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();
  private final List<Logger> loggers =
      List.of(
          (Logger) LoggerFactory.getLogger(AdminAuth.class),
          (Logger) LoggerFactory.getLogger(AdminHandler.class));

  @BeforeEach
  void captureLogs() {
    log.start();
    loggers.forEach(l -> l.addAppender(log));
  }

  @AfterEach
  void stop() {
    loggers.forEach(l -> l.detachAppender(log));
    if (edge != null) {
      edge.close();
    }
    if (backends != null) {
      backends.close();
    }
  }

  private void start(String adminYaml, Map<String, String> env) throws Exception {
    start("", adminYaml, env);
  }

  private void start(String serverYaml, String adminYaml, Map<String, String> env)
      throws Exception {
    backends = new DemoBackends(3);
    String yaml =
        backends
            .config(0, 0)
            .replace("    healthCheckPath: /healthz\n", "")
            .replace("server:\n  port: 0\n", "server:\n  port: 0\n" + serverYaml)
            .replace("admin:\n  port: 0\n", "admin:\n  port: 0\n" + adminYaml);
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", env), EnvironmentInfo.none());
  }

  private String local() {
    return "127.0.0.1:" + edge.adminPort();
  }

  private RawHttp.Reply get(String target, String host, String... headers) throws IOException {
    return RawHttp.send(edge.adminPort(), "GET", target, host, headers);
  }

  private RawHttp.Reply post(String target, String host, String... headers) throws IOException {
    return RawHttp.send(
        edge.adminPort(), "POST", target, host, concat(headers, "Content-Length: 0"));
  }

  private RawHttp.Reply login(String form) throws IOException {
    return RawHttp.post(
        edge.adminPort(), "/admin/ui/login", local(), form, AdminAuth.CSRF_HEADER + ": 1");
  }

  private static String cookie(RawHttp.Reply login) {
    String setCookie = login.header("set-cookie");
    assertThat(setCookie).as("a session cookie").isNotNull();
    return setCookie.substring(0, setCookie.indexOf(';'));
  }

  private static String[] concat(String[] a, String b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = b;
    return out;
  }

  private String state(String endpoint) throws IOException {
    JsonNode pool =
        Json.MAPPER.readTree(
            get("/admin/pools/demo", local(), "Authorization: Bearer " + TOKEN).body());
    for (JsonNode e : pool.get("endpoints")) {
      if (e.get("endpoint").get("id").asText().equals(endpoint)) {
        return e.get("state").asText();
      }
    }
    throw new AssertionError("no endpoint " + endpoint);
  }

  private List<String> lines(Level level) {
    return log.list.stream()
        .filter(e -> e.getLevel() == level)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Test
  void aRebindingHostIsRefusedOnReadsAndWrites() throws Exception {
    start("", Map.of()); // the open mode: loopback without a token, what rebinding targets
    String evil = "evil.example:" + edge.adminPort();

    RawHttp.Reply read = get("/admin/pools", evil);
    assertThat(read.status()).isEqualTo(403);
    assertThat(read.header("content-type")).isEqualTo("application/json");
    assertThat(read.body())
        .contains("'" + evil + "'", "admin.allowedHosts")
        .doesNotContain("demo-a");
    assertThat(get("/admin/config", evil).status()).isEqualTo(403);
    assertThat(get("/metrics", evil).status()).as("every admin-listener path").isEqualTo(403);
    assertThat(get("/admin/ui/", evil).status()).isEqualTo(403);

    // The rebinding page posts to its own origin: Host and Origin both name it.
    RawHttp.Reply drain =
        post("/admin/pools/demo/endpoints/demo-a/drain", evil, "Origin: http://" + evil);
    assertThat(drain.status()).isEqualTo(403);
    RawHttp.Reply strategy = post("/admin/pools/demo/strategy?name=maglev", evil);
    assertThat(strategy.status()).as("even without Origin").isEqualTo(403);
    assertThat(state("demo-a")).isNotEqualTo("DRAINING");
    JsonNode pool = Json.MAPPER.readTree(get("/admin/pools/demo", local()).body());
    assertThat(pool.get("strategy").asText()).isEqualTo("round-robin");
    assertThat(lines(Level.WARN)).anySatisfy(l -> assertThat(l).contains("Host '" + evil + "'"));

    // The browser-blocked 0.0.0.0 trick and look-alikes are refused too.
    assertThat(get("/admin/pools", "0.0.0.0:" + edge.adminPort()).status()).isEqualTo(403);
    assertThat(get("/admin/pools", "localhost.evil.example").status()).isEqualTo(403);
    assertThat(get("/admin/pools", "127.0.0.1.nip.io").status()).isEqualTo(403);

    // Loopback names and addresses pass with any port (tunnels and port-forwards change it).
    for (String ok :
        List.of(local(), "127.0.0.1", "localhost:1234", "LOCALHOST", "[::1]:9", "127.0.0.2:80")) {
      assertThat(get("/admin/pools", ok).status()).as(ok).isEqualTo(200);
    }

    assertThat(get("/admin/pools", null).status()).as("no Host on HTTP/1.1").isEqualTo(400);
    assertThat(get("/admin/pools", local(), "Host: evil.example").status())
        .as("two Hosts")
        .isEqualTo(400);
    assertThat(get("/admin/pools", "a b").status()).as("a malformed Host").isEqualTo(400);
    assertThat(get("/admin/pools", "127.0.0.1:99999").status()).isEqualTo(400);
    assertThat(get("/admin/pools", "localhost\0").status())
        .as("NUL is not whitespace")
        .isIn(400, 403);
    assertThat(get("/admin/pools", " \tlocalhost\t").status())
        .as("OWS around the value")
        .isEqualTo(200);
    RawHttp.Reply http10 =
        RawHttp.send(
            edge.adminPort(),
            "GET /healthz HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    assertThat(http10.status()).as("HTTP/1.0 may omit Host").isEqualTo(200);
  }

  @Test
  void aSlowHeadIsAnswered408AndClosedAtTheHeadTimeoutWhileOthersAreServed() throws Exception {
    start("  requestHeadTimeout: 1s\n", "", Map.of());
    long t0 = System.nanoTime();
    try (java.net.Socket slow =
        new java.net.Socket(InetAddress.getLoopbackAddress(), edge.adminPort())) {
      slow.setSoTimeout(RawHttp.READ_TIMEOUT_MS);
      java.io.OutputStream out = slow.getOutputStream();
      out.write(
          ("GET /admin/pools HTTP/1.1\r\nHost: " + local() + "\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      // One header line every 200 ms (the attack's pace), at most 25 (5 s): the write fails
      // once
      // the proxy has closed.
      for (int i = 0; i < 25; i++) {
        try {
          out.write(("X-Slow-" + i + ": a\r\n").getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
        } catch (IOException closed) {
          break;
        }
        // The attack's pace (a line every 200 ms) is the fault; meanwhile others are
        // served.
        await()
            .pollDelay(Duration.ofMillis(200))
            .atMost(Duration.ofSeconds(5))
            .untilAsserted(
                () ->
                    assertThat(get("/healthz", local()).status())
                        .as("others are served meanwhile")
                        .isEqualTo(200));
      }
      String answer = new String(slow.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(answer).startsWith("HTTP/1.1 408");
    } catch (java.net.SocketException reset) {
      // The close may reach the client as a reset after the 408 was read or lost: the
      // deadline is
      // what matters here.
    }
    long seconds = java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
    assertThat(seconds).as("cut at the 1 s head timeout, not left open").isLessThan(4);
  }

  @Test
  void aForeignOriginCannotChangeAnythingEvenWithAnAllowedHost() throws Exception {
    start("", Map.of());
    String drain = "/admin/pools/demo/endpoints/demo-b/drain";
    for (String origin :
        List.of(
            "http://evil.example",
            "http://localhost:3000", // another local web app in the operator's browser
            "http://127.0.0.1:" + (edge.adminPort() + 1),
            "null",
            "file://",
            "ftp://127.0.0.1:" + edge.adminPort(),
            "http://127.0.0.1:" + edge.adminPort() + ".evil.example")) {
      RawHttp.Reply r = post(drain, local(), "Origin: " + origin);
      assertThat(r.status()).as(origin).isEqualTo(403);
      assertThat(r.body()).as(origin).contains("Origin");
    }
    assertThat(post("/admin/ui/login", local(), "Origin: http://evil.example").status())
        .as("the login is a change too")
        .isEqualTo(403);
    assertThat(state("demo-b")).isNotEqualTo("DRAINING");

    assertThat(post(drain, local(), "Origin: http://" + local()).status())
        .as("same origin")
        .isEqualTo(202);
    assertThat(
            post(
                    "/admin/pools/demo/endpoints/demo-b/undrain",
                    "localhost:8000",
                    "Origin: http://localhost:8000")
                .status())
        .as("a tunnel's origin equals its Host")
        .isEqualTo(200);
    assertThat(lines(Level.INFO))
        .as("changes are logged with the caller")
        .anySatisfy(
            l ->
                assertThat(l)
                    .contains("admin change POST", "drain", "from 127.0.0.1", "via open", "202"));
  }

  @Test
  void allowedHostsAreAnsweredAndTheirOriginsMayChangeThings() throws Exception {
    start("  allowedHosts: [admin.example.com, edge-1.internal:9999]\n", Map.of());
    assertThat(get("/admin/pools", "admin.example.com").status()).isEqualTo(200);
    assertThat(get("/admin/pools", "Admin.Example.COM:8443").status())
        .as("no port listed: any port")
        .isEqualTo(200);
    assertThat(get("/admin/pools", "edge-1.internal:9999").status()).isEqualTo(200);
    assertThat(get("/admin/pools", "edge-1.internal:9998").status())
        .as("a listed port is exact")
        .isEqualTo(403);
    assertThat(get("/admin/pools", "edge-1.internal").status()).isEqualTo(403);
    assertThat(get("/admin/pools", "sub.admin.example.com").status())
        .as("no implicit subdomains")
        .isEqualTo(403);

    // A reverse proxy that rewrites Host to the upstream (nginx's default) still passes Origin.
    RawHttp.Reply viaProxy =
        post(
            "/admin/pools/demo/endpoints/demo-c/drain",
            local(),
            "Origin: https://admin.example.com");
    assertThat(viaProxy.status()).isEqualTo(202);
    assertThat(
            post(
                    "/admin/pools/demo/endpoints/demo-c/undrain",
                    "admin.example.com",
                    "Origin: https://evil.example")
                .status())
        .isEqualTo(403);
    assertThat(edge.config().redacted().admin().allowedHosts())
        .containsExactly("admin.example.com", "edge-1.internal:9999");
  }

  @Test
  void allowedHostsComeFromTheEnvironmentAndBadEntriesNameTheKey() throws Exception {
    start("", Map.of("EDGE_ADMIN_ALLOWED_HOSTS", "ops.internal, 10.0.0.7:9901,"));
    assertThat(edge.config().admin().allowedHosts())
        .containsExactly("ops.internal", "10.0.0.7:9901");
    assertThat(get("/admin/pools", "ops.internal:1").status()).isEqualTo(200);
    assertThat(get("/admin/pools", "10.0.0.7:9901").status()).isEqualTo(200);
    assertThat(get("/admin/pools", "10.0.0.7:9902").status()).isEqualTo(403);
    for (String bad :
        List.of(
            "http://a.example",
            "*.example.com",
            "a.example/x",
            "a.example:0",
            "a.example:70000",
            "[::g]")) {
      assertThatThrownBy(
              () ->
                  ConfigFiles.parse(
                      "admin:\n  allowedHosts: ['" + bad + "']\n", "edge.yaml", Map.of()))
          .as(bad)
          .hasMessageContaining("admin.allowedHosts[0]")
          .hasMessageContaining("was '" + bad + "'");
    }
  }

  @Test
  void wrongTokensFromOneAddressAreLimitedAndLogged() throws Exception {
    start("", Map.of("EDGE_ADMIN_TOKEN", TOKEN));
    String good = login("token=" + TOKEN).header("set-cookie");
    assertThat(good).isNotNull();
    String cookie = good.substring(0, good.indexOf(';'));

    for (int i = 1; i <= AdminAuth.MAX_TOKEN_FAILURES; i++) {
      assertThat(login("token=guess-" + i).status()).as("guess %d", i).isEqualTo(401);
    }
    RawHttp.Reply limited = login("token=guess-6");
    assertThat(limited.status()).isEqualTo(429);
    assertThat(Long.parseLong(limited.header("retry-after"))).isBetween(1L, 60L);
    assertThat(limited.body()).contains("too many wrong tokens");
    assertThat(login("token=" + TOKEN).status())
        .as("a right guess in the lock-out gains nothing")
        .isEqualTo(429);
    assertThat(get("/admin/pools", local(), "Authorization: Bearer " + TOKEN).status())
        .as("nor does the bearer header")
        .isEqualTo(429);
    assertThat(get("/admin/pools", local(), "Cookie: " + cookie).status())
        .as("an operator's live session is no guess: it keeps working")
        .isEqualTo(200);

    List<String> warnings = lines(Level.WARN);
    assertThat(
            warnings.stream()
                .filter(l -> l.contains("wrong token (") && l.contains("from 127.0.0.1")))
        .as("one line per failure, with the caller's address")
        .hasSize(AdminAuth.MAX_TOKEN_FAILURES);
    assertThat(warnings.stream().filter(l -> l.contains("refused unchecked (429)"))).hasSize(1);
    for (int i = 0; i < 50; i++) {
      assertThat(login("token=flood-" + i).status()).isEqualTo(429);
    }
    assertThat(lines(Level.WARN)).as("a flood does not flood the log").hasSameSizeAs(warnings);
  }

  @Test
  void wrongBearerTokensCountLikeWrongLogins() throws Exception {
    start("", Map.of("EDGE_ADMIN_TOKEN", TOKEN));
    for (int i = 0; i < AdminAuth.MAX_TOKEN_FAILURES; i++) {
      assertThat(get("/admin/pools", local(), "Authorization: Bearer nope-" + i).status())
          .isEqualTo(401);
    }
    RawHttp.Reply r = get("/admin/pools", local(), "Authorization: Bearer nope");
    assertThat(r.status()).isEqualTo(429);
    assertThat(r.header("retry-after")).isNotNull();
    assertThat(login("token=" + TOKEN).status()).isEqualTo(429);
  }

  @Test
  void theLockOutEndsWithItsWindowAndASuccessResetsTheCount() {
    Instant t0 = Instant.parse("2026-11-27T10:00:00Z");
    DashboardHttpTest.MutableClock clock = new DashboardHttpTest.MutableClock(t0);
    AdminAuth auth = new AdminAuth(new EdgeConfig.Admin("127.0.0.1", 0, TOKEN), clock);
    InetAddress a = InetAddress.getLoopbackAddress();
    for (int i = 0; i < AdminAuth.MAX_TOKEN_FAILURES - 1; i++) {
      assertThat(auth.login("x", a)).isEqualTo(AdminAuth.Via.NONE);
    }
    assertThat(auth.login(TOKEN, a)).isEqualTo(AdminAuth.Via.BEARER);
    assertThat(auth.lockedFor(a)).as("the success reset the count").isZero();
    for (int i = 0; i < AdminAuth.MAX_TOKEN_FAILURES; i++) {
      auth.login("x", a);
    }
    assertThat(auth.lockedFor(a)).isEqualTo(60);
    clock.now = t0.plusSeconds(59);
    assertThat(auth.lockedFor(a)).isEqualTo(1);
    assertThat(auth.login(TOKEN, a)).isEqualTo(AdminAuth.Via.THROTTLED);
    clock.now = t0.plus(AdminAuth.FAILURE_WINDOW);
    assertThat(auth.lockedFor(a)).isZero();
    assertThat(auth.login(TOKEN, a)).isEqualTo(AdminAuth.Via.BEARER);
  }

  @Test
  void ipv6AddressesAreLimitedByTheirSlash64() throws Exception {
    AdminAuth auth =
        new AdminAuth(new EdgeConfig.Admin("127.0.0.1", 0, TOKEN), java.time.Clock.systemUTC());
    for (int i = 1; i <= AdminAuth.MAX_TOKEN_FAILURES; i++) {
      auth.login("x", InetAddress.getByName("2001:db8:1:2::" + Integer.toHexString(i)));
    }
    assertThat(auth.lockedFor(InetAddress.getByName("2001:db8:1:2:ffff::1"))).isPositive();
    assertThat(auth.lockedFor(InetAddress.getByName("2001:db8:1:3::1"))).isZero();
  }

  @Test
  void logoutRevokesThatSessionOnly() throws Exception {
    start("", Map.of("EDGE_ADMIN_TOKEN", TOKEN));
    String first = cookie(login("token=" + TOKEN));
    String second = cookie(login("token=" + TOKEN));
    assertThat(get("/admin/pools", local(), "Cookie: " + first).status()).isEqualTo(200);

    RawHttp.Reply out =
        post("/admin/ui/logout", local(), "Cookie: " + first, AdminAuth.CSRF_HEADER + ": 1");
    assertThat(out.status()).isEqualTo(200);
    assertThat(out.header("set-cookie")).contains("Max-Age=0");
    assertThat(get("/admin/pools", local(), "Cookie: " + first).status())
        .as("the old cookie, replayed, is refused")
        .isEqualTo(401);
    assertThat(get("/admin/ui/", local(), "Cookie: " + first).status()).isEqualTo(303);
    assertThat(get("/admin/pools", local(), "Cookie: " + second).status())
        .as("another session lives on")
        .isEqualTo(200);
    assertThat(lines(Level.INFO))
        .anySatisfy(l -> assertThat(l).contains("admin logout from 127.0.0.1", "1 session"));
  }

  @Test
  void everyInputErrorIsA4xxNamingTheParameter() throws Exception {
    start("", Map.of());
    String bearerless = local();
    RawHttp.Reply noop = post("/admin/pools/demo/strategy?name=round-robin", bearerless);
    assertThat(noop.status()).as("a no-op switch on a never-switched pool").isEqualTo(200);
    assertThat(Json.MAPPER.readTree(noop.body()).get("lastSwitch").isNull()).isTrue();

    String drain = "/admin/pools/demo/endpoints/demo-a/drain?timeout=";
    Map<String, String> bad =
        Map.ofEntries(
            Map.entry(drain + "99999999999999999999h", "'timeout'"),
            Map.entry(drain + "999999999h", "maximum 60m"),
            Map.entry(drain + "2h", "maximum 60m"),
            Map.entry(drain + "PT-5S", "'timeout'"),
            Map.entry(drain + "PT5S", "'timeout'"),
            Map.entry(drain + "-5s", "'timeout'"),
            Map.entry(drain + "5", "'timeout'"),
            Map.entry(drain + "1.5s", "'timeout'"),
            Map.entry(drain, "'timeout'"),
            Map.entry(drain + "5s&timeout=6s", "'timeout' is given 2 times"),
            Map.entry(
                "/admin/pools/demo/endpoints/demo-a/drain?timout=5s",
                "unknown query parameter 'timout'"),
            Map.entry("/admin/pools/demo/strategy", "'name'"),
            Map.entry("/admin/pools/demo/strategy?name=nope", "'name': unknown strategy 'nope'"),
            Map.entry("/admin/pools/demo/endpoints/demo-a/maint?on=maybe", "'on'"),
            Map.entry(
                "/admin/pools/demo/endpoints/demo-a/maint?on=true&reason=" + "r".repeat(201),
                "'reason'"),
            Map.entry(
                "/admin/pools/demo/endpoints/demo-a/maint?on=true&reason=a%0D%0Aforged",
                "'reason'"),
            Map.entry(
                "/admin/pools/demo/endpoints/demo-a/undrain?now=1",
                "unknown query parameter 'now'"),
            Map.entry("/admin/pools/%zz", "percent-escape"),
            Map.entry("/admin/pools/demo?x=%zz", "percent-escape"),
            Map.entry("/admin/pools/%C0%AF", "UTF-8"),
            Map.entry("/admin/pools/a%00b", "control character"));
    for (Map.Entry<String, String> b : bad.entrySet()) {
      RawHttp.Reply r = post(b.getKey(), bearerless);
      assertThat(r.status()).as(b.getKey()).isEqualTo(400);
      assertThat(r.body())
          .as(b.getKey())
          .contains(b.getValue())
          .doesNotContain("Exception", "java.");
    }
    assertThat(state("demo-a")).as("no bad drain went through").isNotEqualTo("DRAINING");
    assertThat(post(drain + "60m", bearerless).status()).as("the maximum itself").isEqualTo(202);
    assertThat(post(drain + "0s", bearerless).status()).isEqualTo(202);

    RawHttp.Reply unknown = get("/admin/nothing", bearerless);
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(get("/admin/pools/nope", bearerless).status()).isEqualTo(404);
    assertThat(post("/admin/pools/demo/endpoints/nope/drain", bearerless).status()).isEqualTo(404);
    assertThat(post("/admin/pools/demo/endpoints/demo-a/explode", bearerless).status())
        .isEqualTo(404);
    for (String[] m :
        List.of(
            new String[] {"DELETE", "/admin/pools", "GET, HEAD"},
            new String[] {"PUT", "/admin/pools/demo/strategy?name=maglev", "POST"},
            new String[] {"GET", "/admin/pools/demo/endpoints/demo-a/drain", "POST"},
            new String[] {"PATCH", "/admin/ui/login", "GET, HEAD, POST"},
            new String[] {"GET", "/admin/ui/logout", "POST"},
            new String[] {"POST", "/metrics", "GET, HEAD"},
            new String[] {"DELETE", "/healthz", "GET, HEAD"},
            new String[] {"OPTIONS", "/admin/config", "GET, HEAD"})) {
      RawHttp.Reply r = RawHttp.send(edge.adminPort(), m[0], m[1], bearerless, "Content-Length: 0");
      assertThat(r.status()).as("%s %s", m[0], m[1]).isEqualTo(405);
      assertThat(r.header("allow")).as("%s %s", m[0], m[1]).isEqualTo(m[2]);
    }
    RawHttp.Reply version =
        RawHttp.send(
            edge.adminPort(),
            ("GET /admin/pools HTTP/1.7\r\nHost: " + local() + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
    assertThat(version.status()).isIn(400, 505);
    RawHttp.Reply longLine = get("/admin/pools/" + "a".repeat(9_000), bearerless);
    assertThat(longLine.status()).isEqualTo(414);
  }
}
