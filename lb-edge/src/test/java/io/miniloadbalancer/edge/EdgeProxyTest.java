package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.miniloadbalancer.edge.config.ConfigFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The proxy on real loopback sockets, with three real demo backends. */
class EdgeProxyTest {

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

  private EdgeProxy start(String extraYaml) throws Exception {
    backends = new DemoBackends(3);
    String yaml = backends.config(0, 0).replace("    healthCheckPath: /healthz\n", "") + extraYaml;
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", Map.of()), EnvironmentInfo.none());
    return edge;
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.proxyPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> admin(String method, String path, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.adminPort() + path))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Sends raw bytes; returns everything the proxy answered before closing (or 2 s). */
  private String raw(String request) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), edge.proxyPort())) {
      s.setSoTimeout(2_000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = in.read(buf)) > 0; ) {
          got.write(buf, 0, n);
        }
      } catch (java.net.SocketTimeoutException e) {
        got.write("<still open>".getBytes(StandardCharsets.ISO_8859_1));
      }
      return got.toString(StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void proxiesGetsAndPostsAcrossThePoolWithForwardingHeaders() throws Exception {
    start("");
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      HttpResponse<String> r = get("/proxy/demo/hello?x=1");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("GET /hello?x=1");
      assertThat(r.headers().firstValue("via"))
          .hasValueSatisfying(v -> assertThat(v).contains("edge-balancer"));
      seen.add(r.body().substring(0, 6));
    }
    assertThat(seen).containsExactlyInAnyOrder("demo-a", "demo-b", "demo-c");
    byte[] body = new byte[3 * 1024 * 1024];
    HttpResponse<String> post =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + edge.proxyPort() + "/proxy/demo/upload"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(200);
    assertThat(post.body()).contains("POST /upload received " + body.length + " bytes");
  }

  @Test
  void badInputGets4xxAndNoStackTrace() throws Exception {
    start("");
    assertThat(raw("GARBAGE\r\n\r\n")).startsWith("HTTP/1.1 400").doesNotContain("Exception");
    assertThat(
            raw(
                "POST /proxy/demo/x HTTP/1.1\r\n"
                    + "Host: a\r\n"
                    + "Content-Length: 3\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n"
                    + "3\r\n"
                    + "abc\r\n"
                    + "0\r\n\r\n"))
        .startsWith("HTTP/1.1 400")
        .contains("Transfer-Encoding");
    assertThat(
            raw(
                "POST /proxy/demo/x HTTP/1.1\r\n"
                    + "Host: a\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n"
                    + "ZZ\r\n"
                    + "abc\r\n"))
        .startsWith("HTTP/1.1 400");
    assertThat(
            raw(
                "GET /proxy/demo/x HTTP/1.1\r\nHost: a\r\nX-Big: "
                    + "a".repeat(20_000)
                    + "\r\n\r\n"))
        .startsWith("HTTP/1.1 431");
    assertThat(
            raw(
                "GET http://169.254.169.254/latest/meta-data HTTP/1.1\r\n"
                    + "Host: 169.254.169.254\r\n\r\n"))
        .as("absolute-form never chooses the upstream")
        .startsWith("HTTP/1.1 400");
    assertThat(raw("CONNECT 10.0.0.1:443 HTTP/1.1\r\nHost: 10.0.0.1:443\r\n\r\n"))
        .startsWith("HTTP/1.1 4");
    assertThat(get("/proxy/nosuchpool/x").statusCode()).isEqualTo(404);
    assertThat(get("/elsewhere").statusCode()).isEqualTo(404);
  }

  @Test
  void oversizedBodiesGet413() throws Exception {
    start("");
    edge.close();
    backends.close();
    backends = new DemoBackends(1);
    String yaml =
        backends.config(0, 0).replace("  port: 0\nadmin", "  port: 0\n  maxBodyBytes: 1000\nadmin");
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "t.yaml", Map.of()), EnvironmentInfo.none());
    assertThat(raw("POST /proxy/demo/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n"))
        .startsWith("HTTP/1.1 413");
    String chunk = Integer.toHexString(1500) + "\r\n" + "b".repeat(1500) + "\r\n";
    assertThat(
            raw(
                "POST /proxy/demo/x HTTP/1.1\r\n"
                    + "Host: a\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n"
                    + chunk
                    + "0\r\n\r\n"))
        .startsWith("HTTP/1.1 413");
  }

  @Test
  void aBackendKilledUnderLoadCostsNoFailedGets() throws Exception {
    start("");
    int failed = 0;
    int n = 0;
    for (; n < 300; n++) {
      if (n == 50) {
        backends.kill("demo-b");
      }
      HttpResponse<String> r = get("/proxy/demo/item/" + n);
      if (r.statusCode() != 200) {
        failed++;
      }
    }
    assertThat(failed).as("failed GETs of " + n).isZero();
    // The failures that retries hid were still counted: outlier detection took demo-b out.
    HttpResponse<String> pool = admin("GET", "/admin/pools/demo", null);
    assertThat(pool.body())
        .containsPattern("\"id\":\"demo-b\"[^{]*\\{\\}\\},\"state\":\"EJECTED\"");
  }

  @Test
  void drainViaAdminWhileRequestsAreInFlightDropsNone() throws Exception {
    start("");
    List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      slow.add(
          http.sendAsync(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + edge.proxyPort() + "/proxy/demo/slow/" + i))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    // All nine in flight (each held 600 ms by its backend) before the drain starts.
    await().atMost(Duration.ofSeconds(5)).until(() -> edge.inFlight() == 9);
    HttpResponse<String> drain =
        admin("POST", "/admin/pools/demo/endpoints/demo-a/drain?timeout=10s", null);
    assertThat(drain.statusCode()).isEqualTo(202);
    for (CompletableFuture<HttpResponse<String>> f : slow) {
      assertThat(f.get().statusCode()).isEqualTo(200);
    }
    for (int i = 0; i < 12; i++) {
      assertThat(get("/proxy/demo/after").body()).doesNotStartWith("demo-a");
    }
    assertThat(admin("GET", "/admin/pools/demo", null).body()).contains("DRAINING");
  }

  @Test
  void aStrategySwitchViaAdminShowsInAdminAndMetrics() throws Exception {
    start("");
    HttpResponse<String> sw = admin("POST", "/admin/pools/demo/strategy?name=p2c-ewma", null);
    assertThat(sw.statusCode()).isEqualTo(200);
    assertThat(admin("GET", "/admin/pools/demo", null).body())
        .contains("\"strategy\":\"p2c-ewma\"");
    String metrics = admin("GET", "/metrics", null).body();
    assertThat(metrics)
        .contains("lb_strategy{pool=\"demo\",strategy=\"p2c-ewma\"} 1.0")
        .contains(
            "lb_strategy_switches_total{from=\"round-robin\",pool=\"demo\",to=\"p2c-ewma\"}"
                + " 1.0");
    assertThat(admin("POST", "/admin/pools/demo/strategy?name=nope", null).statusCode())
        .isEqualTo(400);
    assertThat(admin("POST", "/admin/pools/demo/strategy?name=round-robin", null).statusCode())
        .as("dwell time: a second switch at once is refused")
        .isEqualTo(409);
    assertThat(admin("GET", "/admin/pools/demo/strategy", null).statusCode()).isEqualTo(405);
    assertThat(admin("GET", "/admin/nothing", null).statusCode()).isEqualTo(404);
    assertThat(admin("GET", "/admin/pools/demo/explain", null).body())
        .contains("\"candidates\"")
        .contains("\"chosen\"");
  }

  @Test
  void adminBoundPubliclyNeedsTheTokenButMetricsAndHealthDoNot() throws Exception {
    start("");
    edge.close();
    String yaml =
        backends
            .config(0, 0)
            .replace("admin:\n  port: 0\n", "admin:\n  port: 0\n  bind: 0.0.0.0\n");
    edge =
        EdgeProxy.start(
            ConfigFiles.parse(yaml, "t.yaml", Map.of("EDGE_ADMIN_TOKEN", "s3cret")),
            EnvironmentInfo.none());
    assertThat(admin("GET", "/admin/pools", null).statusCode()).isEqualTo(401);
    assertThat(admin("GET", "/admin/pools", "wrong").statusCode()).isEqualTo(401);
    assertThat(admin("GET", "/admin/pools", "s3cret").statusCode()).isEqualTo(200);
    assertThat(admin("GET", "/admin/config", "s3cret").body())
        .contains("<redacted>")
        .doesNotContain("s3cret");
    assertThat(admin("GET", "/metrics", null).statusCode()).isEqualTo(200);
    assertThat(admin("GET", "/readyz", null).statusCode()).isEqualTo(200);
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrderOnTheSameConnection() throws Exception {
    start("");
    // Three requests in one write: the proxy keeps reading while the first is in flight, so the
    // others arrive during it; they must wait their turn, not be refused or interleaved.
    String answers =
        raw(
            "GET /proxy/demo/slow-one HTTP/1.1\r\n"
                + "Host: a\r\n\r\n"
                + "POST /proxy/demo/two HTTP/1.1\r\n"
                + "Host: a\r\n"
                + "Content-Length: 5\r\n\r\n"
                + "helloGET /proxy/demo/three HTTP/1.1\r\n"
                + "Host: a\r\n"
                + "Connection: close\r\n\r\n");
    assertThat(answers.split("HTTP/1.1 200 OK", -1)).hasSize(4);
    assertThat(answers).doesNotContain("<still open>");
    int one = answers.indexOf("GET /slow-one");
    int two = answers.indexOf("POST /two received 5 bytes");
    int three = answers.indexOf("GET /three");
    assertThat(one).isNotNegative();
    assertThat(two).isGreaterThan(one);
    assertThat(three).isGreaterThan(two);
  }
}
