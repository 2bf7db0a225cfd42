package io.miniloadbalancer.edge.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.miniloadbalancer.edge.DemoBackends;
import io.miniloadbalancer.edge.EdgeProxy;
import io.miniloadbalancer.edge.EnvironmentInfo;
import io.miniloadbalancer.edge.config.ConfigFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import jdk.jfr.FlightRecorder;
import jdk.jfr.RecordingState;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /admin}, the route index, and the profiling routes, on real sockets. */
class AdminIndexAndProfilingTest {

  private static final String TOKEN = "index-test-token";

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private DemoBackends backends;
  private EdgeProxy edge;

  @BeforeEach
  void start() throws Exception {
    backends = new DemoBackends(2);
    String yaml =
        backends
            .config(0, 0)
            .replace("    healthCheckPath: /healthz\n", "")
            .replace("admin:\n  port: 0\n", "admin:\n  port: 0\n  token: " + TOKEN + "\n");
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", Map.of()), EnvironmentInfo.none());
  }

  @AfterEach
  void stop() {
    if (edge != null) {
      edge.close();
    }
    if (backends != null) {
      backends.close();
    }
  }

  private HttpResponse<byte[]> send(String method, String path, boolean token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.adminPort() + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (token) {
      b.header("Authorization", "Bearer " + TOKEN);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static JsonNode json(HttpResponse<byte[]> r) throws Exception {
    return new ObjectMapper().readTree(r.body());
  }

  @Test
  void theIndexListsEveryRouteAndEveryListedRouteIsServed() throws Exception {
    HttpResponse<byte[]> index = send("GET", "/admin", true);
    assertThat(index.statusCode()).isEqualTo(200);
    JsonNode routes = json(index).get("routes");
    List<String> paths = new ArrayList<>();
    routes.forEach(r -> paths.add(r.get("method").asText() + " " + r.get("path").asText()));
    assertThat(paths)
        .contains(
            "GET /admin",
            "GET /admin/pools",
            "GET /admin/pools/{pool}",
            "POST /admin/pools/{pool}/strategy",
            "POST /admin/profile/jfr",
            "GET /admin/profile/threads",
            "POST /admin/profile/heap-histogram",
            "GET /metrics");
    routes.forEach(r -> assertThat(r.get("description").asText()).isNotBlank());
    assertThat(json(send("GET", "/", true))).isEqualTo(json(index));

    // Every row is a route the plane serves: its own method never gets "no route".
    for (JsonNode r : routes) {
      String path =
          r.get("path")
              .asText()
              .replace("{pool}", "demo")
              .replace("{id}", "demo-a")
              .replace("{action}", "undrain");
      if (path.endsWith("/jfr") || path.endsWith("/strategy")) {
        continue; // a 10 s recording, and a switch needing ?name: covered below and elsewhere
      }
      HttpResponse<byte[]> answer = send(r.get("method").asText(), path, true);
      if (path.endsWith("/config/reload")) {
        // The demo has no config file: the route answers, and says why there is nothing to do.
        assertThat(answer.statusCode()).isEqualTo(409);
        assertThat(new String(answer.body(), StandardCharsets.UTF_8)).contains("without a config");
        continue;
      }
      assertThat(answer.statusCode()).as("%s %s", r.get("method").asText(), path).isLessThan(400);
    }
  }

  @Test
  void theIndexAndProfilingNeedTheToken() throws Exception {
    assertThat(send("GET", "/admin", false).statusCode()).isEqualTo(401);
    assertThat(send("GET", "/admin/profile/threads", false).statusCode()).isEqualTo(401);
    assertThat(send("POST", "/admin/profile/jfr?seconds=1", false).statusCode()).isEqualTo(401);
  }

  @Test
  void aJfrRecordingComesBackAsAFileOneAtATime(@TempDir Path dir) throws Exception {
    CompletableFuture<HttpResponse<byte[]>> first =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return send("POST", "/admin/profile/jfr?seconds=2", true);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                FlightRecorder.getFlightRecorder().getRecordings().stream()
                    .anyMatch(
                        r ->
                            r.getName().equals("edge-admin")
                                && r.getState() == RecordingState.RUNNING));
    HttpResponse<byte[]> busy = send("POST", "/admin/profile/jfr?seconds=1", true);
    assertThat(busy.statusCode()).isEqualTo(409);

    HttpResponse<byte[]> r = first.get();
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-disposition").orElseThrow())
        .startsWith("attachment; filename=\"edge-")
        .endsWith(".jfr\"");
    Path file = dir.resolve("edge.jfr");
    Files.write(file, r.body());
    assertThat(RecordingFile.readAllEvents(file)).isNotEmpty();

    assertThat(send("POST", "/admin/profile/jfr?seconds=61", true).statusCode()).isEqualTo(400);
    assertThat(new String(send("POST", "/admin/profile/jfr?seconds=x", true).body()))
        .contains("'seconds'");
    assertThat(send("GET", "/admin/profile/jfr", true).statusCode()).isEqualTo(405);
  }

  @Test
  void threadDumpAndHeapHistogramAreText() throws Exception {
    HttpResponse<byte[]> threads = send("GET", "/admin/profile/threads", true);
    assertThat(threads.statusCode()).isEqualTo(200);
    assertThat(threads.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain");
    assertThat(new String(threads.body())).contains("edge-profiling", "java.lang.Thread.State");

    HttpResponse<byte[]> heap = send("POST", "/admin/profile/heap-histogram", true);
    assertThat(heap.statusCode()).isEqualTo(200);
    assertThat(new String(heap.body())).contains("java.lang.String", "#instances");
    assertThat(send("GET", "/admin/profile/heap-histogram", true).statusCode()).isEqualTo(405);
  }
}
