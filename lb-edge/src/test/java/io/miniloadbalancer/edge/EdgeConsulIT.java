package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.miniloadbalancer.consul.ConsulRegistration;
import io.miniloadbalancer.consul.RealConsulAgent;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.http.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy against the real Consul agent: a pool discovered from Consul, and the proxy's own
 * registration (task IP and zone from the ECS environment, the {@code /readyz} check, shutdown
 * through maintenance then deregistration).
 */
class EdgeConsulIT {

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String suffix = Long.toHexString(System.nanoTime());
  private final String backendService = "edge-it-backend-" + suffix;
  private final String proxyService = "edge-it-proxy-" + suffix;
  private final List<ConsulRegistration> registrations = new ArrayList<>();
  private DemoBackends backends;
  private EdgeProxy edge;

  @BeforeEach
  void setUp() throws Exception {
    RealConsulAgent.require();
    backends = new DemoBackends(3);
    for (Map.Entry<String, Integer> b : backends.ports().entrySet()) {
      registrations.add(
          ConsulRegistration.builder(backendService, b.getValue())
              .agent(RealConsulAgent.URL)
              .id(backendService + "-" + b.getKey())
              .address("127.0.0.1")
              .httpCheck("http://127.0.0.1:" + b.getValue() + "/healthz", Duration.ofSeconds(1))
              .drainWait(Duration.ZERO)
              .register());
    }
  }

  @AfterEach
  void tearDown() {
    if (edge != null) {
      edge.close();
    }
    registrations.forEach(ConsulRegistration::close);
    if (backends != null) {
      backends.close();
    }
  }

  private JsonNode agent(String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(RealConsulAgent.URL + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    return Json.MAPPER.readTree(r.body());
  }

  private String get(String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.proxyPort() + path))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  @Test
  void discoversItsPoolInConsulAndRegistersItselfThenLeavesThroughMaintenance() throws Exception {
    String yaml =
        "server: {port: 0}\nadmin: {port: 0}\n"
            + "consul:\n  agent: "
            + RealConsulAgent.URL
            + "\n"
            + "  register: {service: "
            + proxyService
            + ", checkInterval: 1s, drainWait: 2s, tags: [edge]}\n"
            + "pools:\n  demo:\n    consulService: "
            + backendService
            + "\n";
    EnvironmentInfo ecs =
        new EnvironmentInfo(
            "arn:aws:ecs:eu-west-1:123456789012:task/edge/abc", "eu-west-1b", "127.0.0.1", "test");
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "consul.yaml", Map.of()), ecs);

    Set<String> seen = new HashSet<>();
    await()
        .atMost(15, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              String r = get("/proxy/demo/hello");
              if (r.startsWith("200 ")) {
                seen.add(r.substring(4, 10));
              }
              return seen.size() == 3;
            });

    String id = proxyService + "-127.0.0.1-" + edge.proxyPort();
    JsonNode health =
        await()
            .atMost(15, TimeUnit.SECONDS)
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> agent("/v1/health/service/" + proxyService + "?passing=true"),
                n -> n.size() == 1)
            .get(0);
    assertThat(health.at("/Service/ID").asText()).isEqualTo(id);
    assertThat(health.at("/Service/Address").asText()).as("the ECS task IP").isEqualTo("127.0.0.1");
    assertThat(health.at("/Service/Port").asInt()).isEqualTo(edge.proxyPort());
    assertThat(health.at("/Service/Meta/zone").asText()).isEqualTo("eu-west-1b");
    assertThat(health.at("/Service/Tags/0").asText()).isEqualTo("edge");
    assertThat(admin("/admin/env")).contains("registered as " + id);

    // SIGTERM's path: maintenance first while the proxy still serves, then deregistration.
    CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(edge::drainAndStop);
    await()
        .atMost(2, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> agent("/v1/agent/checks").has("_service_maintenance:" + id));
    assertThat(get("/proxy/demo/still-serving"))
        .as("serves during the drain wait")
        .startsWith("200 ");
    assertThat(stopped.get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(agent("/v1/agent/services").has(id)).as("deregistered").isFalse();
    edge = null;
  }

  private String admin(String path) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.adminPort() + path))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
