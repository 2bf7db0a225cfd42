package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.logging.TransitionLog;
import io.miniloadbalancer.edge.proxy.EdgeMeters;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The access log, the proxy's meters and the process binders, the transition lines: real sockets.
 */
class ObservabilityTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ListAppender<ILoggingEvent> access = new ListAppender<>();
  private final ListAppender<ILoggingEvent> transitions = new ListAppender<>();
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
    logger("io.miniloadbalancer.edge.access").detachAppender(access);
    logger(TransitionLog.LOGGER).detachAppender(transitions);
  }

  private static Logger logger(String name) {
    return (Logger) LoggerFactory.getLogger(name);
  }

  private void start(String extraYaml) throws Exception {
    access.start();
    transitions.start();
    logger("io.miniloadbalancer.edge.access").addAppender(access);
    logger(TransitionLog.LOGGER).addAppender(transitions);
    backends = new DemoBackends(2);
    String yaml = backends.config(0, 0).replace("    healthCheckPath: /healthz\n", "") + extraYaml;
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", Map.of()), EnvironmentInfo.none());
  }

  private HttpResponse<String> send(String method, int port, String path, String body)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private String metrics() throws Exception {
    return send("GET", edge.adminPort(), "/metrics", null).body();
  }

  private static double sample(String scrape, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  @Test
  void everyExchangeWritesOneAccessLogLineAndCountsItsMeters() throws Exception {
    start("");
    HttpResponse<String> r = send("POST", edge.proxyPort(), "/proxy/demo/upload?q=a/b", "hello");
    assertThat(r.statusCode()).isEqualTo(200);
    HttpResponse<String> second = send("GET", edge.proxyPort(), "/proxy/demo/hello", null);

    await().atMost(Duration.ofSeconds(5)).until(() -> access.list.size() >= 2);
    List<JsonNode> lines = access.list.stream().map(e -> read(e.getFormattedMessage())).toList();
    JsonNode post = lines.get(0);
    assertThat(post.get("method").asText()).isEqualTo("POST");
    assertThat(post.get("path").asText()).isEqualTo("/proxy/demo/upload?q=a/b");
    assertThat(post.get("pool").asText()).isEqualTo("demo");
    assertThat(post.get("endpoint").asText()).startsWith("demo-");
    assertThat(post.get("client").asText()).isEqualTo("127.0.0.1");
    assertThat(post.get("status").asInt()).isEqualTo(200);
    assertThat(post.get("outcome").asText()).isEqualTo("answered");
    assertThat(post.get("bytesIn").asLong()).isEqualTo(5);
    assertThat(post.get("bytesOut").asLong()).isEqualTo(r.body().length());
    assertThat(post.get("attempts").asInt()).isEqualTo(1);
    assertThat(post.get("requestId").asText()).hasSize(16);
    assertThat(post.get("totalMs").asDouble())
        .isGreaterThanOrEqualTo(post.get("upstreamMs").asDouble());
    assertThat(post.has("sticky")).as("no affinity in this pool").isFalse();
    assertThat(lines.get(1).get("status").asInt()).isEqualTo(second.statusCode());

    // A path no pool serves: the proxy's own 404, logged with its request id.
    HttpResponse<String> unrouted = send("GET", edge.proxyPort(), "/nowhere", null);
    assertThat(unrouted.statusCode()).isEqualTo(404);
    await().atMost(Duration.ofSeconds(5)).until(() -> access.list.size() >= 3);
    JsonNode nowhere = read(access.list.get(2).getFormattedMessage());
    assertThat(nowhere.get("outcome").asText()).isEqualTo("no_route");
    assertThat(nowhere.get("path").asText()).isEqualTo("/nowhere");
    assertThat(nowhere.get("pool").isNull()).isTrue();
    assertThat(unrouted.body()).contains(nowhere.get("requestId").asText());

    String scrape = metrics();
    assertThat(
            sample(
                scrape,
                "edge_requests_total{outcome=\"answered\",pool=\"demo\",status_class=\"2xx\"}"))
        .isEqualTo(2.0);
    assertThat(sample(scrape, "edge_request_body_bytes_total{pool=\"demo\"}")).isEqualTo(5.0);
    assertThat(sample(scrape, "edge_response_body_bytes_total{pool=\"demo\"}"))
        .isGreaterThanOrEqualTo(r.body().length());
    assertThat(sample(scrape, "edge_request_duration_seconds_count{pool=\"demo\"}")).isEqualTo(2);
    assertThat(scrape).contains("edge_request_duration_seconds_bucket{pool=\"demo\",le=");
    assertThat(sample(scrape, "edge_upstream_connections_active")).isGreaterThanOrEqualTo(1);
    assertThat(scrape).contains("edge_client_connections_active ");
  }

  @Test
  void connectErrorsAndRetriesAreCountedByReason() throws Exception {
    // A pool whose first endpoint refuses connections: the proxy retries on the other.
    start(
        """
          dead:
            endpoints:
              - {id: gone, host: 127.0.0.1, port: 1}
        """);
    HttpResponse<String> r = send("GET", edge.proxyPort(), "/proxy/dead/x", null);
    assertThat(r.statusCode()).isEqualTo(502);
    String scrape = metrics();
    assertThat(sample(scrape, "edge_upstream_connect_errors_total{pool=\"dead\"}"))
        .isGreaterThanOrEqualTo(1);
    assertThat(
            sample(
                scrape,
                "edge_requests_total{outcome=\"proxy_error\",pool=\"dead\",status_class=\"5xx\"}"))
        .isEqualTo(1.0);
    assertThat(sample(scrape, "edge_protocol_errors_total{kind=\"connect\",side=\"upstream\"}"))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void theAccessLogCanBeSwitchedOff() throws Exception {
    start("accessLog:\n  enabled: false\n");
    assertThat(send("GET", edge.proxyPort(), "/proxy/demo/hello", null).statusCode())
        .isEqualTo(200);
    // The meters saw it, so the exchange has ended: the (absent) line would have been written.
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                metrics().contains("outcome=\"answered\",pool=\"demo\",status_class=\"2xx\"} 1.0"));
    assertThat(access.list).isEmpty();
  }

  @Test
  void metricsCarryTheJvmProcessAndNettyFamilies() throws Exception {
    start("");
    String scrape = metrics();
    Set<String> families = new TreeSet<>();
    Matcher m = Pattern.compile("(?m)^# TYPE (\\S+)").matcher(scrape);
    while (m.find()) {
      families.add(m.group(1));
    }
    assertThat(families)
        .contains(
            "jvm_memory_used_bytes",
            "jvm_gc_live_data_size_bytes",
            "jvm_threads_live_threads",
            "jvm_classes_loaded_classes",
            "process_uptime_seconds",
            "process_cpu_usage",
            "process_files_open_files",
            "netty_allocator_memory_used",
            "netty_eventexecutor_tasks_pending",
            "edge_client_connections_active",
            "edge_upstream_connections_active");
    assertThat(EdgeMeters.REQUESTS).isEqualTo("edge.requests");
  }

  @Test
  void transitionsAreReadableOnAPublicLogger() throws Exception {
    start("");
    await().atMost(Duration.ofSeconds(5)).until(() -> !transitions.list.isEmpty());
    assertThat(transitions.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith("pool 'demo': endpoint demo-a added -> HEALTHY")
                    .doesNotContain("null"));
  }

  private static JsonNode read(String line) {
    try {
      return JSON.readTree(line);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + line, e);
    }
  }
}
