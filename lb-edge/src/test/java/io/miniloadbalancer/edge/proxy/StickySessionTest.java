package io.miniloadbalancer.edge.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.miniloadbalancer.core.DrainResult;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.edge.DemoBackends;
import io.miniloadbalancer.edge.EdgeProxy;
import io.miniloadbalancer.edge.EnvironmentInfo;
import io.miniloadbalancer.edge.config.ConfigFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy's affinity cookie on real sockets: pinning, drain-aware stickiness, re-pinning. */
class StickySessionTest {

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private DemoBackends backends;
  private EdgeProxy edge;

  @BeforeEach
  void start() throws Exception {
    backends = new DemoBackends(3);
    String yaml =
        backends
            .config(0, 0)
            .replace("    healthCheckPath: /healthz\n", "    sticky: {drainQuietPeriod: 1s}\n")
            // The test client stands in for the ALB: its X-Forwarded-Proto is believed.
            .replace("server:\n", "server:\n  trustedProxies: [127.0.0.1/32]\n");
    edge =
        EdgeProxy.start(ConfigFiles.parse(yaml, "sticky.yaml", Map.of()), EnvironmentInfo.none());
  }

  @AfterEach
  void stop() {
    edge.close();
    backends.close();
  }

  private HttpResponse<String> get(String path, String cookie) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.proxyPort() + path));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String backend(HttpResponse<String> r) {
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body().substring(0, 6);
  }

  private HttpResponse<String> admin(String method, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.adminPort() + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aSessionStaysOnItsEndpointThroughItsDrainThenMovesKeepingItsCookie() throws Exception {
    HttpResponse<String> first = get("/proxy/demo/page", null);
    Optional<String> setCookie = first.headers().firstValue("set-cookie");
    assertThat(setCookie)
        .hasValueSatisfying(
            v ->
                assertThat(v)
                    .startsWith("edge_demo=")
                    .containsIgnoringCase("httponly")
                    .contains("SameSite=Lax")
                    .contains("Path=/")
                    .doesNotContain("Max-Age")
                    .doesNotContain("Secure"));
    String token = setCookie.get().substring(0, setCookie.get().indexOf(';'));
    String cookie = "app=1; flag; " + token;
    String home = backend(first);

    for (int i = 0; i < 12; i++) {
      HttpResponse<String> r = get("/proxy/demo/page/" + i, cookie);
      assertThat(backend(r)).as("request %d of the session", i).isEqualTo(home);
      assertThat(r.headers().firstValue("set-cookie")).as("the cookie is set once").isEmpty();
      assertThat(r.body())
          .as("the app's cookies pass, the proxy's does not")
          .contains("cookie: app=1; flag\n")
          .doesNotContain("edge_demo");
    }
    Set<String> fresh = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      fresh.add(backend(get("/proxy/demo/new", null)));
    }
    assertThat(fresh).as("new clients are balanced").hasSize(3);

    // A session request in flight, then the drain: the session keeps its endpoint while it
    // drains.
    CompletableFuture<HttpResponse<String>> slow =
        http.sendAsync(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + edge.proxyPort() + "/proxy/demo/slow"))
                .header("Cookie", cookie)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    LoadBalancer balancer = edge.balancer("demo");
    await().atMost(Duration.ofSeconds(5)).until(() -> balancer.inFlight(home) == 1);
    assertThat(
            admin("POST", "/admin/pools/demo/endpoints/" + home + "/drain?timeout=20s")
                .statusCode())
        .isEqualTo(202);
    for (int i = 0; i < 7; i++) {
      assertThat(backend(get("/proxy/demo/during/" + i, cookie)))
          .as("session during the drain")
          .isEqualTo(home);
      assertThat(backend(get("/proxy/demo/other/" + i, null)))
          .as("new client during the drain")
          .isNotEqualTo(home);
    }
    assertThat(backend(slow.get())).isEqualTo(home);
    // Nothing in flight any more: the session's recent requests (within drainQuietPeriod, 1 s)
    // hold the drain open, so the session still reaches its endpoint.
    assertThat(backend(get("/proxy/demo/during/idle", cookie)))
        .as("session after the in-flight request ended")
        .isEqualTo(home);
    assertThat(admin("GET", "/admin/pools/demo").body()).contains("DRAINING");

    // Quiet for longer than drainQuietPeriod: the drain settles and the session moves. A
    // second drain request of the same endpoint completes when the drain settles.
    DrainResult settled = balancer.drain(home, Duration.ofSeconds(20)).get(10, TimeUnit.SECONDS);
    assertThat(settled.completed()).isTrue();
    HttpResponse<String> moved = get("/proxy/demo/after", cookie);
    String newHome = backend(moved);
    assertThat(newHome).isNotEqualTo(home);
    assertThat(moved.headers().firstValue("set-cookie"))
        .as("re-pinned under the same token")
        .isEmpty();
    for (int i = 0; i < 6; i++) {
      assertThat(backend(get("/proxy/demo/after/" + i, cookie))).isEqualTo(newHome);
    }
    String metrics = admin("GET", "/metrics").body();
    assertThat(metrics)
        .contains("edge_affinity_total{pool=\"demo\",result=\"moved\"} 1.0")
        .containsPattern(
            "edge_affinity_total\\{pool=\"demo\",result=\"pinned\"} (2[5-9]|3\\d)\\.0");
  }

  @Test
  void malformedTokensAreReplacedAndUnknownOnesArePinnedAnew() throws Exception {
    HttpResponse<String> forged = get("/proxy/demo/x", "edge_demo=demo-a");
    assertThat(forged.statusCode()).isEqualTo(200);
    assertThat(forged.headers().firstValue("set-cookie"))
        .as("a malformed token is replaced")
        .hasValueSatisfying(v -> assertThat(v).doesNotContain("demo-a"));
    String unknown = "edge_demo=" + StickySessions.newToken();
    String home = backend(get("/proxy/demo/y", unknown));
    for (int i = 0; i < 5; i++) {
      assertThat(backend(get("/proxy/demo/y/" + i, unknown)))
          .as("an unknown well-formed token is pinned like a new one")
          .isEqualTo(home);
    }
  }

  @Test
  void aSessionWhoseEndpointDiesIsRetriedElsewhereAndRepinnedThere() throws Exception {
    HttpResponse<String> first = get("/proxy/demo/a", null);
    String setCookie = first.headers().firstValue("set-cookie").orElseThrow();
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));
    String home = backend(first);
    backends.kill(home); // no health checks in this pool: the proxy learns it from the connect
    HttpResponse<String> retried = get("/proxy/demo/b", cookie);
    String newHome = backend(retried);
    assertThat(newHome).as("the idempotent GET was retried on another endpoint").isNotEqualTo(home);
    assertThat(retried.headers().firstValue("set-cookie")).as("same token, re-pinned").isEmpty();
    for (int i = 0; i < 5; i++) {
      assertThat(backend(get("/proxy/demo/c/" + i, cookie))).isEqualTo(newHome);
    }
  }

  @Test
  void theCookieIsSecureWhenTheClientCameOverHttps() throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + edge.proxyPort() + "/proxy/demo/tls"))
                .header("X-Forwarded-Proto", "https")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.headers().firstValue("set-cookie"))
        .hasValueSatisfying(v -> assertThat(v).contains("Secure"));
  }
}
