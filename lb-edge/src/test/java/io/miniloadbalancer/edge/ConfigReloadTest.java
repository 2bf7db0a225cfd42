package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.miniloadbalancer.edge.admin.ReloadReport;
import io.miniloadbalancer.edge.config.ConfigFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config reload on real sockets: under load with no failed request, and an invalid file. */
class ConfigReloadTest {

  @TempDir Path dir;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private DemoBackends backends;
  private EdgeProxy edge;
  private Path file;

  @BeforeEach
  void start() throws Exception {
    backends = new DemoBackends(3);
    file = dir.resolve("edge.yaml");
    Files.writeString(file, yaml("", "app", "round-robin", "demo-a", "demo-b"));
    edge = EdgeProxy.start(ConfigFiles.load(file, Map.of()), EnvironmentInfo.none());
    edge.enableReload(file, Map.of());
  }

  @AfterEach
  void stop() {
    edge.close();
    backends.close();
  }

  /** A config with ephemeral ports, {@code extra} then one pool of the named backends. */
  private String yaml(String extra, String pool, String strategy, String... members) {
    StringBuilder y = new StringBuilder("server: {port: 0, drainTimeout: 5s}\nadmin: {port: 0}\n");
    y.append(extra).append("pools:\n");
    y.append("  ").append(pool).append(":\n    strategy: ").append(strategy);
    y.append("\n    endpoints:\n");
    for (String m : members) {
      y.append("      - {id: ")
          .append(m)
          .append(", host: 127.0.0.1, port: ")
          .append(backends.ports().get(m))
          .append("}\n");
    }
    return y.toString();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.proxyPort() + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> admin(String method, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.adminPort() + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void reloadsUnderLoadTwiceWithoutAFailedRequest() throws Exception {
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger sent = new AtomicInteger();
    List<String> failures = new ArrayList<>();
    Set<String> seenAfterFirst = ConcurrentHashMap.newKeySet();
    // 0 before the first reload, 1 between the two, 2 from the second on.
    AtomicInteger phase = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(3);
    List<Future<?>> loops = new ArrayList<>();
    for (int c = 0; c < 3; c++) {
      loops.add(
          clients.submit(
              () -> {
                // Bounded: at most 5,000 requests per client, until both reloads are done.
                for (int i = 0; i < 5_000 && !done.get(); i++) {
                  boolean between = phase.get() == 1;
                  try {
                    HttpResponse<String> r = get("/proxy/app/x" + i);
                    if (r.statusCode() != 200) {
                      synchronized (failures) {
                        failures.add(r.statusCode() + " " + r.body());
                      }
                    } else if (between && phase.get() == 1) {
                      seenAfterFirst.add(r.body().substring(0, 6));
                    }
                  } catch (Exception e) {
                    synchronized (failures) {
                      failures.add(e.toString());
                    }
                  }
                  sent.incrementAndGet();
                }
              }));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sent.get() >= 100);

    // 1: app's endpoints change (a out, c in) and its strategy switches; pool 'side' is added.
    Files.writeString(
        file,
        yaml("", "app", "least-connections", "demo-b", "demo-c")
            + "  side:\n    endpoints:\n      - {host: 127.0.0.1, port: "
            + backends.ports().get("demo-a")
            + "}\n");
    HttpResponse<String> first = admin("POST", "/admin/config/reload");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(first.body())
        .contains("\"result\":\"applied\"")
        .contains("pool 'side' added")
        .contains("pool 'app' strategy round-robin -> least-connections")
        .contains("[demo-b, demo-c]");
    assertThat(edge.balancer("app").strategy()).isEqualTo("least-connections");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> edge.balancer("app").snapshot().endpoint("demo-a").isEmpty());
    phase.set(1);
    assertThat(get("/proxy/side/hello").body()).startsWith("demo-a");
    int mark = sent.get();
    await().atMost(Duration.ofSeconds(10)).until(() -> sent.get() >= mark + 100);

    // 2: a request in flight on 'side', then 'side' is removed and app is rebuilt (health
    // check on): the request in flight finishes on the old balancer.
    CompletableFuture<HttpResponse<String>> slow =
        http.sendAsync(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + edge.proxyPort() + "/proxy/side/slow"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(5)).until(() -> backends.active() >= 1);
    phase.set(2);
    Files.writeString(
        file,
        yaml("", "app", "least-connections", "demo-a", "demo-c")
            .replace("    strategy:", "    healthCheckPath: /healthz\n    strategy:"));
    ReloadReport second = edge.reload("test").get(10, TimeUnit.SECONDS);
    assertThat(second.result()).isEqualTo("applied");
    assertThat(second.changes())
        .anySatisfy(c -> assertThat(c).contains("pool 'app' rebuilt"))
        .anySatisfy(c -> assertThat(c).contains("pool 'side' removed"));
    assertThat(slow.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(get("/proxy/side/hello").statusCode()).isEqualTo(404);
    int mark2 = sent.get();
    await().atMost(Duration.ofSeconds(10)).until(() -> sent.get() >= mark2 + 100);

    done.set(true);
    for (Future<?> f : loops) {
      f.get(30, TimeUnit.SECONDS);
    }
    clients.shutdown();
    assertThat(failures).as("failed requests of %d", sent.get()).isEmpty();
    assertThat(seenAfterFirst).as("between the reloads").containsOnly("demo-b", "demo-c");
    assertThat(edge.balancer("app").snapshot().endpoints())
        .extracting(e -> e.id())
        .containsExactlyInAnyOrder("demo-a", "demo-c");
    assertThat(admin("GET", "/metrics").body())
        .contains("edge_config_reloads_total{result=\"applied\"} 2.0");
  }

  @Test
  void anInvalidFileKeepsTheRunningConfigAndSaysWhy() throws Exception {
    Files.writeString(file, yaml("", "app", "no-such-strategy", "demo-a"));
    HttpResponse<String> r = admin("POST", "/admin/config/reload");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("no-such-strategy").contains("is unknown");
    assertThat(get("/proxy/app/still").statusCode()).isEqualTo(200);
    assertThat(edge.balancer("app").strategy()).isEqualTo("round-robin");
    assertThat(admin("GET", "/metrics").body())
        .contains("edge_config_reloads_total{result=\"invalid\"} 1.0");

    Files.writeString(file, "server: {port: 0}\nadmin: {port: 0}\npools: {}\n");
    assertThat(admin("POST", "/admin/config/reload").body()).contains("no pools configured");
    assertThat(edge.balancer("app")).isNotNull();
  }

  @Test
  void listenerSettingsAreReportedAsNeedingARestart() throws Exception {
    Files.writeString(
        file,
        yaml("", "app", "round-robin", "demo-a", "demo-b")
            .replace("server: {port: 0, drainTimeout: 5s}", "server: {port: 0, workers: 7}"));
    ReloadReport r = edge.reload("test").get(10, TimeUnit.SECONDS);
    assertThat(r.result()).isEqualTo("unchanged");
    assertThat(r.needsRestart()).containsExactlyInAnyOrder("server.workers", "server.drainTimeout");
    assertThat(edge.config().server().drainTimeout()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void sighupReloadsAndTheFileWatchToo() throws Exception {
    Signals.onHangup(edge);
    Files.writeString(file, yaml("", "app", "random", "demo-a", "demo-b"));
    Signals.raise("HUP");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> edge.balancer("app").strategy(), "random"::equals);
    assertThat(edge.state()).isEqualTo("ready");

    edge.close();
    Files.writeString(
        file,
        yaml("reload: {watch: true, watchInterval: 100ms}\n", "app", "round-robin", "demo-a"));
    edge = EdgeProxy.start(ConfigFiles.load(file, Map.of()), EnvironmentInfo.none());
    edge.enableReload(file, Map.of());
    Files.writeString(
        file,
        yaml("reload: {watch: true, watchInterval: 100ms}\n", "app", "round-robin", "demo-c"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> edge.balancer("app").snapshot().endpoint("demo-c").isPresent());
  }
}
