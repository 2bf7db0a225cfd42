package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.edge.config.ConfigFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy's own request timeout and lb-core's HTTP outcome table (HttpOutcomes) on real loopback
 * sockets: two scripted backends in one pool, one retry, so a retried request reaches both and one
 * that is not retried reaches one.
 */
class ProxyTimeoutAndOutcomeTest {

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private HostileBackend first;
  private HostileBackend second;
  private EdgeProxy edge;

  @AfterEach
  void stop() {
    if (edge != null) {
      edge.close();
    }
    if (first != null) {
      first.close();
    }
    if (second != null) {
      second.close();
    }
  }

  /** Both backends run {@code steps} for /work; {@code poolYaml} adds keys to pool {@code p}. */
  private void start(List<HostileBackend.Step> steps, String poolYaml) throws Exception {
    first = new HostileBackend().on("/work", steps);
    second = new HostileBackend().on("/work", steps);
    String yaml =
        "server: {port: 0, workers: 1}\n"
            + "admin: {port: 0}\n"
            + "upstream: {maxRetries: 1}\n"
            + "pools:\n"
            + "  p:\n"
            + "    outlierDetection: false\n"
            + poolYaml
            + "    endpoints:\n"
            + "      - {id: e1, host: 127.0.0.1, port: "
            + first.port()
            + "}\n"
            + "      - {id: e2, host: 127.0.0.1, port: "
            + second.port()
            + "}\n";
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", Map.of()), EnvironmentInfo.none());
  }

  private HttpResponse<String> send(String method, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.proxyPort() + "/proxy/p/work"))
            .timeout(Duration.ofSeconds(10))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private int reached() {
    return first.received().size() + second.received().size();
  }

  private EndpointSnapshot endpoint(String id) {
    LoadBalancer lb = edge.balancer("p");
    return lb.snapshot().endpoint(id).orElseThrow();
  }

  private String metrics() throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.adminPort() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void aBackendThatNeverAnswersTimesOutAs504ChargedRetriedAndItsConnectionClosed()
      throws Exception {
    start(List.of(HostileBackend.awaitClose(20_000)), "    requestTimeout: 300ms\n");
    long t0 = System.nanoTime();
    HttpResponse<String> r = send("GET");
    long tookMillis = (System.nanoTime() - t0) / 1_000_000;

    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(tookMillis).as("two attempts of 300 ms, not the 30 s default").isLessThan(5_000);
    assertThat(first.received()).hasSize(1);
    assertThat(second.received()).hasSize(1);
    for (String id : List.of("e1", "e2")) {
      EndpointSnapshot e = endpoint(id);
      assertThat(e.failures()).as(id + " charged a failure").isEqualTo(1);
      assertThat(e.inFlight()).isZero();
    }
    await("both upstream connections closed by the proxy")
        .atMost(Duration.ofSeconds(3))
        .until(() -> first.isClosed(1) && second.isClosed(1));
    assertThat(metrics())
        .containsPattern("edge_protocol_errors_total\\{[^}]*kind=\"timeout\"[^}]*\\} 2\\.0");
  }

  @Test
  void aTimedOutPostWithoutIdempotencyKeyIsNotRetried() throws Exception {
    start(List.of(HostileBackend.awaitClose(20_000)), "    requestTimeout: 300ms\n");
    assertThat(send("POST").statusCode()).isEqualTo(504);
    assertThat(reached()).isEqualTo(1);
    assertThat(edge.balancer("p").retriesGranted()).isZero();
  }

  @Test
  void a429WithRetryAfterPenalizesTheEndpointIsNotAFailureAndGoesElsewhere() throws Exception {
    start(
        List.of(
            HostileBackend.write(
                "HTTP/1.1 429 Too Many Requests\r\n"
                    + "Retry-After: 30\r\n"
                    + "Content-Length: 4\r\n\r\n"
                    + "slow")),
        "");
    HttpResponse<String> r = send("GET");

    // Each endpoint tried once (the retry never goes back to the one that asked for a pause);
    // with no retry left the backend's own answer, Retry-After included, reaches the client.
    assertThat(first.received()).hasSize(1);
    assertThat(second.received()).hasSize(1);
    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.headers().firstValue("Retry-After")).hasValue("30");
    assertThat(r.body()).isEqualTo("slow");
    // The last attempt's lease ends after its answer's last byte went to the client: wait for it.
    for (String id : List.of("e1", "e2")) {
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(
              () -> {
                EndpointSnapshot e = endpoint(id);
                assertThat(e.overloaded()).as(id + " overloaded").isEqualTo(1);
                assertThat(e.failures()).as(id + " not a failure").isZero();
                assertThat(e.penaltyRemainingMillis())
                    .as(id + " paused for its Retry-After")
                    .isPositive();
              });
    }
  }

  @Test
  void a503WithRetryAfterIsAnOverloadAndWithoutOneAFailure() throws Exception {
    start(
        List.of(
            HostileBackend.write(
                "HTTP/1.1 503 Service Unavailable\r\n"
                    + "Retry-After: 20\r\n"
                    + "Content-Length: 0\r\n\r\n")),
        "");
    assertThat(send("GET").statusCode()).isEqualTo(503);
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () -> {
              assertThat(endpoint("e1").overloaded() + endpoint("e2").overloaded()).isEqualTo(2);
              assertThat(endpoint("e1").failures() + endpoint("e2").failures()).isZero();
            });
  }

  @Test
  void aPostWithIdempotencyKeyIsRetriedOnAnother5xx() throws Exception {
    start(
        List.of(
            HostileBackend.write(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")),
        "");
    HttpResponse<String> r =
        send("POST", "Idempotency-Key", "8e03978e-40d5-43e8-bc93-6894a57f9324");
    assertThat(r.statusCode()).isEqualTo(500);
    assertThat(first.received()).hasSize(1);
    assertThat(second.received()).hasSize(1);
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () -> assertThat(endpoint("e1").failures() + endpoint("e2").failures()).isEqualTo(2));
    assertThat(edge.balancer("p").retriesGranted()).isEqualTo(1);
  }

  @Test
  void aPostWithoutIdempotencyKeyIsNotRetried() throws Exception {
    start(
        List.of(
            HostileBackend.write(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")),
        "");
    assertThat(send("POST").statusCode()).isEqualTo(500);
    assertThat(reached()).isEqualTo(1);
    assertThat(edge.balancer("p").retriesGranted()).isZero();
  }

  @Test
  void fallAndTheOutlierKeysReachTheBalancer() throws Exception {
    // /health answers 503: with fall 1 the first probe (within interval, 1 s) takes an endpoint
    // down; lb-core's default fall, 3, would need two more, fastInterval (20 s) apart; with
    // consecutiveFailures 1 and
    // maxEjectionPercent 100 one failed request ejects b1 (lb-core's default, 5 in a row, would
    // not; lb-core never ejects a pool's only endpoint, hence b2, which round-robin's weights
    // leave alone for the first pick).
    first = new HostileBackend();
    second = new HostileBackend();
    List<HostileBackend.Step> unavailable =
        List.of(
            HostileBackend.write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"));
    first.on("/health", unavailable);
    second.on("/work", HostileBackend.write("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"));
    second.on("/health", HostileBackend.ok("up"));
    String yaml =
        "server: {port: 0, workers: 1}\n"
            + "admin: {port: 0}\n"
            + "upstream: {maxRetries: 0}\n"
            + "pools:\n"
            + "  a:\n"
            + "    outlierDetection: false\n"
            + "    healthCheck: {path: /health, interval: 1s, fastInterval: 20s, fall: 1}\n"
            + "    endpoints: [{id: a1, host: 127.0.0.1, port: "
            + first.port()
            + "}]\n"
            + "  b:\n"
            + "    outlier: {consecutiveFailures: 1, maxEjectionPercent: 100}\n"
            + "    endpoints:\n"
            + "      - {id: b1, host: 127.0.0.1, port: "
            + second.port()
            + ", weight: 100}\n"
            + "      - {id: b2, host: 127.0.0.1, port: "
            + first.port()
            + "}\n";
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", Map.of()), EnvironmentInfo.none());
    await("a1 down after one failed probe")
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                edge.balancer("a").snapshot().endpoint("a1").orElseThrow().state()
                    == EndpointState.UNHEALTHY);
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + edge.proxyPort() + "/proxy/b/work"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(500);
    await("b1 ejected after one failure")
        .atMost(Duration.ofSeconds(3))
        .until(
            () ->
                edge.balancer("b").snapshot().endpoint("b1").orElseThrow().state()
                    == EndpointState.EJECTED);
  }
}
