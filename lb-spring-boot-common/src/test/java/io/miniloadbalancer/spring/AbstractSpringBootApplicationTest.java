package io.miniloadbalancer.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.spring.app.DemoApplication;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A real Spring Boot application on a real port, three real backends on loopback, and the
 * application's own HTTP clients calling the pool, driven from outside over HTTP. The steps share
 * one application and run in order: spread, operator actions, failover, leases, metrics. Each
 * starter runs these on its Boot line.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public abstract class AbstractSpringBootApplicationTest {

  private static final List<String> CLIENTS =
      List.of("rest-client", "web-client", "rest-template", "spring-cloud");
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Backends backends;
  private static ConfigurableApplicationContext app;
  private static HttpClient http;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    backends = new Backends(3);
    List<String> args = new ArrayList<>();
    args.add("--server.port=0");
    args.add("--server.address=127.0.0.1");
    args.add("--spring.main.banner-mode=off");
    for (int i = 0; i < 3; i++) {
      Backends.Backend b = backends.get(i);
      args.add("--edge-balancer.pools.orders.endpoints[" + i + "].id=" + b.id());
      args.add("--edge-balancer.pools.orders.endpoints[" + i + "].address=" + b.address());
    }
    args.add("--edge-balancer.pools.orders.strategy=round-robin");
    args.add("--edge-balancer.pools.orders.outlier-detection.consecutive-failures=2");
    args.add("--edge-balancer.pools.orders.retry.max-retries=2");
    args.add("--edge-balancer.shutdown.drain-timeout=2s");
    args.add("--management.endpoints.web.exposure.include=health,loadbalancers,prometheus");
    args.add("--management.endpoint.loadbalancers.access=unrestricted");
    args.add("--management.endpoint.health.show-details=always");
    app = SpringApplication.run(DemoApplication.class, args.toArray(String[]::new));
    base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
    if (backends != null) {
      backends.close();
    }
  }

  @Test
  @Order(1)
  void everyClientSpreadsCallsByTheStrategy() throws Exception {
    for (String client : CLIENTS) {
      Map<String, Integer> seen = new HashMap<>();
      for (int i = 0; i < 60; i++) {
        HttpResponse<String> r = get("/via/" + client);
        assertThat(r.statusCode()).as(client).isEqualTo(200);
        seen.merge(r.body(), 1, Integer::sum);
      }
      // Round-robin over three equal endpoints: 20 each, give or take a concurrent probe.
      assertThat(seen).as(client).containsOnlyKeys("b1", "b2", "b3");
      seen.values().forEach(n -> assertThat(n).as(client + " " + seen).isBetween(17, 23));
    }
  }

  @Test
  @Order(2)
  void theActuatorEndpointShowsAndChangesState() throws Exception {
    JsonNode pools = json(get("/actuator/loadbalancers"));
    assertThat(pools.path("orders").path("strategy").asText()).isEqualTo("round-robin");
    assertThat(pools.path("orders").path("endpoints")).hasSize(3);

    HttpResponse<String> drained =
        post("/actuator/loadbalancers/orders", "{\"action\":\"drain\",\"endpoint\":\"b1\"}");
    assertThat(drained.statusCode()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> state("b1").equals("DRAINING") || state("b1").equals("REMOVED"));
    int before = backends.get(0).hits().get();
    for (int i = 0; i < 12; i++) {
      assertThat(get("/via/rest-client").body()).isNotEqualTo("b1");
    }
    assertThat(backends.get(0).hits().get()).isEqualTo(before);

    assertThat(
            post("/actuator/loadbalancers/orders", "{\"action\":\"undrain\",\"endpoint\":\"b1\"}")
                .statusCode())
        .isEqualTo(200);
    await().atMost(Duration.ofSeconds(5)).until(() -> state("b1").equals("HEALTHY"));

    HttpResponse<String> switched =
        post(
            "/actuator/loadbalancers/orders",
            "{\"action\":\"strategy\",\"strategy\":\"least-connections\",\"reason\":\"test\"}");
    assertThat(switched.statusCode()).isEqualTo(200);
    assertThat(json(get("/actuator/loadbalancers/orders")).path("strategy").asText())
        .isEqualTo("least-connections");

    HttpResponse<String> bad = post("/actuator/loadbalancers/orders", "{\"action\":\"explode\"}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(get("/actuator/loadbalancers/nosuchpool").statusCode()).isEqualTo(404);
  }

  @Test
  @Order(3)
  void healthIsDownWhenNoEndpointIsRoutable() throws Exception {
    assertThat(json(get("/actuator/health/loadbalancers/orders")).path("status").asText())
        .isEqualTo("UP");
    for (String id : List.of("b1", "b2", "b3")) {
      post(
          "/actuator/loadbalancers/orders",
          "{\"action\":\"maintenance\",\"endpoint\":\"" + id + "\"}");
    }
    HttpResponse<String> down = get("/actuator/health/loadbalancers/orders");
    assertThat(down.statusCode()).isEqualTo(503);
    assertThat(json(down).path("status").asText()).isEqualTo("DOWN");
    assertThat(json(down).path("details").has("panic")).isTrue();
    for (String id : List.of("b1", "b2", "b3")) {
      post("/actuator/loadbalancers/orders", "{\"action\":\"ready\",\"endpoint\":\"" + id + "\"}");
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> get("/actuator/health/loadbalancers/orders").statusCode() == 200);
  }

  @Test
  @Order(4)
  void aKilledBackendCostsNoFailedGet() throws Exception {
    backends.kill(2);
    int failed = 0;
    for (String client : List.of("rest-client", "web-client", "rest-template")) {
      for (int i = 0; i < 30; i++) {
        HttpResponse<String> r = get("/via/" + client);
        if (r.statusCode() != 200 || r.body().equals("b3")) {
          failed++;
        }
      }
    }
    assertThat(failed).isZero();
    // The pool learned: b3 is ejected, so Spring Cloud's clients (which retry nothing) are fine
    // too.
    assertThat(state("b3")).isEqualTo("EJECTED");
    for (int i = 0; i < 10; i++) {
      assertThat(get("/via/spring-cloud").statusCode()).isEqualTo(200);
    }
  }

  @Test
  @Order(5)
  void leasesReturnToZero() {
    LoadBalancer orders = app.getBean(EdgeBalancerPools.class).get("orders");
    await().atMost(Duration.ofSeconds(5)).until(() -> orders.snapshot().totalInFlight() == 0);
    for (Backends.Backend b : backends.all()) {
      assertThat(orders.inFlight(b.id())).as(b.id()).isZero();
    }
  }

  @Test
  @Order(6)
  void prometheusShowsTheLbSeries() throws Exception {
    String scrape = get("/actuator/prometheus").body();
    assertThat(scrape).contains("lb_requests_total{", "pool=\"orders\"");
    assertThat(scrape).containsPattern("(?m)^lb_\\w+\\{[^}]*pool=\"orders\"");
  }

  private static String state(String id) throws Exception {
    for (JsonNode e : json(get("/actuator/loadbalancers/orders")).path("endpoints")) {
      if (e.path("endpoint").path("id").asText().equals(id)) {
        return e.path("state").asText();
      }
    }
    return "REMOVED";
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
