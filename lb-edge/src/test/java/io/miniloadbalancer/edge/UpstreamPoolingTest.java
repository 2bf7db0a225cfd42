package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.miniloadbalancer.edge.config.ConfigFiles;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The upstream side of the data path on real loopback sockets: the per-loop connection pool (reuse,
 * the per-endpoint bound, queueing for a free connection, 503 past the acquire timeout), the one
 * response deadline per connection that serves request after request, and the idle timeouts of both
 * sides (stamps checked by one timer per connection).
 */
class UpstreamPoolingTest {

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private HostileBackend backend;
  private EdgeProxy edge;

  @AfterEach
  void stop() {
    if (edge != null) {
      edge.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  private void start(String serverYaml, String upstreamYaml, String poolYaml) throws Exception {
    String yaml =
        "server: {port: 0, workers: 1"
            + serverYaml
            + "}\n"
            + "admin: {port: 0}\n"
            + "upstream: {maxRetries: 0"
            + upstreamYaml
            + "}\n"
            + "pools:\n"
            + "  p:\n"
            + "    outlierDetection: false\n"
            + poolYaml
            + "    endpoints:\n"
            + "      - {id: e1, host: 127.0.0.1, port: "
            + backend.port()
            + "}\n";
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", Map.of()), EnvironmentInfo.none());
  }

  private HttpRequest get(String path) {
    return HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + edge.proxyPort() + "/proxy/p" + path))
        .timeout(Duration.ofSeconds(10))
        .build();
  }

  private String metrics() throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.adminPort() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void theResponseDeadlineStillFiresOnTimeOnAConnectionThatServedRequestsForLongerThanIt()
      throws Exception {
    backend =
        new HostileBackend()
            .on("/fast", HostileBackend.ok("fast"))
            .on("/stall", HostileBackend.awaitClose(20_000));
    start("", "", "    requestTimeout: 300ms\n");
    // Fast requests on one keep-alive connection for longer than the deadline: the connection's one
    // timer (armed by the first request) fires while later requests run and must re-arm for the
    // request then in flight, not expire it and not lose the deadline.
    long t0 = System.nanoTime();
    int fast = 0;
    while (System.nanoTime() - t0 < 700_000_000L && fast < 5_000) {
      HttpResponse<String> r = http.send(get("/fast"), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as("fast request %d", fast).isEqualTo(200);
      fast++;
    }
    long t1 = System.nanoTime();
    HttpResponse<String> stalled = http.send(get("/stall"), HttpResponse.BodyHandlers.ofString());
    long tookMillis = (System.nanoTime() - t1) / 1_000_000;

    assertThat(stalled.statusCode()).isEqualTo(504);
    assertThat(tookMillis)
        .as("the stalled request's own 300 ms deadline, not an earlier request's")
        .isBetween(250L, 1_500L);
    assertThat(backend.received())
        .as("every request on the one pooled connection")
        .allSatisfy(r -> assertThat(r.connection()).isEqualTo(1))
        .hasSize(fast + 1);
  }

  @Test
  void atTheConnectionLimitARequestWaitsForTheBusyConnectionAndReusesIt() throws Exception {
    backend =
        new HostileBackend()
            .on("/slow", List.of(HostileBackend.pause(300), HostileBackend.write(okText("slow"))));
    start("", ", maxConnectionsPerEndpoint: 1, connectTimeout: 3s", "");
    CompletableFuture<HttpResponse<String>> a =
        http.sendAsync(get("/slow"), HttpResponse.BodyHandlers.ofString());
    CompletableFuture<HttpResponse<String>> b =
        http.sendAsync(get("/slow"), HttpResponse.BodyHandlers.ofString());

    assertThat(a.get().statusCode()).isEqualTo(200);
    assertThat(b.get().statusCode()).isEqualTo(200);
    assertThat(backend.received())
        .as("the second request waited for the one allowed connection")
        .hasSize(2)
        .allSatisfy(r -> assertThat(r.connection()).isEqualTo(1));
  }

  @Test
  void aRequestWaitingPastTheConnectTimeoutForABusyConnectionGets503() throws Exception {
    backend =
        new HostileBackend()
            .on(
                "/slow",
                List.of(HostileBackend.pause(2_000), HostileBackend.write(okText("slow"))));
    start("", ", maxConnectionsPerEndpoint: 1, connectTimeout: 200ms", "    requestTimeout: 10s\n");
    CompletableFuture<HttpResponse<String>> holder =
        http.sendAsync(get("/slow"), HttpResponse.BodyHandlers.ofString());
    await("the first request holds the one connection")
        .atMost(Duration.ofSeconds(3))
        .until(() -> backend.received().size() == 1);

    long t0 = System.nanoTime();
    HttpResponse<String> waited = http.send(get("/slow"), HttpResponse.BodyHandlers.ofString());
    long tookMillis = (System.nanoTime() - t0) / 1_000_000;

    assertThat(waited.statusCode()).as("the proxy's own limit: 503").isEqualTo(503);
    assertThat(tookMillis).as("upstream.connectTimeout of 200 ms").isBetween(150L, 1_500L);
    assertThat(holder.get().statusCode()).isEqualTo(200);
    assertThat(backend.received()).as("the refused request never reached it").hasSize(1);
    assertThat(metrics())
        .containsPattern("edge_protocol_errors_total\\{[^}]*kind=\"pool_full\"[^}]*\\} 1\\.0");
  }

  @Test
  void anIdlePooledConnectionIsClosedAfterTheUpstreamIdleTimeoutAndANewOneServesTheNext()
      throws Exception {
    backend = new HostileBackend().on("/x", HostileBackend.ok("x"));
    start("", ", idleTimeout: 300ms", "");
    long t0 = System.nanoTime();
    assertThat(http.send(get("/x"), HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(200);

    await("the proxy closes its idle upstream connection")
        .atMost(Duration.ofSeconds(3))
        .until(() -> backend.isClosed(1));
    assertThat((System.nanoTime() - t0) / 1_000_000)
        .as("not before the idle time")
        .isGreaterThan(250);
    assertThat(http.send(get("/x"), HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(200);
    assertThat(backend.received())
        .extracting(HostileBackend.Received::connection)
        .containsExactly(1, 2);
  }

  @Test
  void aSilentClientConnectionIsClosedAfterTheServerIdleTimeout() throws Exception {
    backend = new HostileBackend().on("/x", HostileBackend.ok("x"));
    start(", idleTimeout: 300ms", "", "");
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", edge.proxyPort()), 2_000);
      s.setSoTimeout(5_000);
      long t0 = System.nanoTime();
      InputStream in = s.getInputStream();
      int first = in.read(); // blocks until the proxy closes (EOF) or the 5 s bound
      long tookMillis = (System.nanoTime() - t0) / 1_000_000;

      assertThat(first).as("closed without a byte: nothing was asked").isEqualTo(-1);
      assertThat(tookMillis).isBetween(250L, 3_000L);
    }
  }

  private static String okText(String body) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
  }
}
