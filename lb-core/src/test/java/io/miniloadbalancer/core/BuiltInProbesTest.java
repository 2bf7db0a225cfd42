package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The TCP and HTTP probes against real sockets on loopback. */
class BuiltInProbesTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private HttpServer http;
  private ServerSocket tcp;

  @AfterEach
  void stop() throws IOException {
    if (http != null) {
      http.stop(0);
    }
    if (tcp != null) {
      tcp.close();
    }
  }

  @Test
  void tcpProbePassesOnAListeningPortAndFailsOnAClosedOne() throws IOException {
    tcp = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Endpoint open = Endpoint.of("open", "127.0.0.1", tcp.getLocalPort());
    int closedPort = freePort();
    Endpoint closed = Endpoint.of("closed", "127.0.0.1", closedPort);

    ProbeResult up = HealthProbes.tcp(TIMEOUT).check(open).toCompletableFuture().join();
    ProbeResult down = HealthProbes.tcp(TIMEOUT).check(closed).toCompletableFuture().join();

    assertThat(up.healthy()).isTrue();
    assertThat(down.healthy()).isFalse();
    assertThat(down.detail()).contains("TCP connect failed");
  }

  @Test
  void httpProbeJudgesTheStatusAndAnUnexpectedOneFails() throws IOException {
    AtomicInteger status = new AtomicInteger(200);
    http = healthServer(status);
    Endpoint e = Endpoint.of("web", "127.0.0.1", http.getAddress().getPort());

    assertThat(check(e).healthy()).isTrue();
    status.set(503);
    ProbeResult failing = check(e);
    assertThat(failing.healthy()).isFalse();
    assertThat(failing.detail()).isEqualTo("HTTP 503 (unexpected status)");
    status.set(302);
    assertThat(check(e).healthy()).as("3xx passes, as HAProxy's http-check").isTrue();
  }

  @Test
  void aRealBackendGoingDownIsTakenOutAndComesBackThroughTheThresholds() throws IOException {
    AtomicInteger status = new AtomicInteger(200);
    http = healthServer(status);
    LoadBalancer lb =
        LoadBalancer.builder()
            .endpoints(
                Endpoint.of("web", "127.0.0.1", http.getAddress().getPort()),
                Endpoint.of("other", "127.0.0.1", freePort()))
            .panicThreshold(0)
            .healthCheck(
                HealthCheck.builder(HealthProbes.http("/health", TIMEOUT))
                    .interval(Duration.ofMillis(50))
                    .build())
            .build();
    try {
      status.set(500);
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> HealthCheckTest.state(lb, "web") == EndpointState.UNHEALTHY);
      assertThat(lb.snapshot().endpoint("web").orElseThrow().lastTransition().reason())
          .contains("3 failed probes", "HTTP 500");
      status.set(200);
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> HealthCheckTest.state(lb, "web") == EndpointState.HEALTHY);
    } finally {
      lb.close();
    }
  }

  /** A real HTTP server on loopback whose {@code /health} answers the current {@code status}. */
  private static HttpServer healthServer(AtomicInteger status) throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/health",
        exchange -> {
          exchange.sendResponseHeaders(status.get(), -1);
          exchange.close();
        });
    server.start();
    return server;
  }

  private ProbeResult check(Endpoint e) {
    return HealthProbes.http("/health", TIMEOUT).check(e).toCompletableFuture().join();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
