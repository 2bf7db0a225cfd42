package io.miniloadbalancer.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.RequestContext;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.kiwiproject.consul.Consul;

/**
 * Discovery and self-registration against a real Consul agent (1.8.7 from Debian bullseye in CI),
 * with real HTTP backends on loopback.
 */
class ConsulAgentIT {

  private final String service = "it-" + UUID.randomUUID().toString().substring(0, 8);
  private final List<HttpServer> backends = new ArrayList<>();
  private final List<ConsulRegistration> registrations = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private LoadBalancer lb;

  @BeforeEach
  void agent() {
    RealConsulAgent.require();
  }

  @AfterEach
  void cleanUp() {
    if (lb != null) {
      lb.close();
    }
    // Closing deregisters (or logs why it could not) and stops TTL heartbeats.
    registrations.forEach(ConsulRegistration::close);
    backends.forEach(b -> b.stop(0));
  }

  private HttpServer backend(String name) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    s.createContext(
        "/",
        ex -> {
          byte[] body = name.getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    s.start();
    backends.add(s);
    return s;
  }

  /**
   * Registers instance {@code i} with a TTL check that starts passing; heartbeats are far apart.
   */
  private ConsulRegistration register(int i, int passingWeight) throws IOException {
    HttpServer b = backend(service + "-" + i);
    ConsulRegistration r =
        ConsulRegistration.builder(service, b.getAddress().getPort())
            .agent(RealConsulAgent.URL)
            .id(service + "-" + i)
            .address("127.0.0.1")
            .weights(passingWeight, 1)
            .meta(Map.of("zone", "z" + i))
            .ttlCheck(Duration.ofMinutes(5), () -> true)
            .drainWait(Duration.ZERO)
            .register();
    registrations.add(r);
    return r;
  }

  private LoadBalancer balancer(ConsulEndpointSource.Builder source) {
    lb = LoadBalancer.builder().name(service).panicThreshold(0).source(source.build()).build();
    return lb;
  }

  private ConsulEndpointSource.Builder source() {
    return ConsulEndpointSource.builder(service)
        .agent(RealConsulAgent.URL)
        .wait(Duration.ofSeconds(5))
        .minQueryInterval(Duration.ofMillis(50))
        .backoff(Duration.ofMillis(100), Duration.ofMillis(500));
  }

  private EndpointSnapshot endpoint(String id) {
    return lb.snapshot().endpoint(id).orElseThrow(() -> new AssertionError("no endpoint " + id));
  }

  private String id(int i) {
    return service + "-" + i;
  }

  /** One real request through the balancer; returns the backend's name, or throws. */
  private String call() throws IOException, InterruptedException {
    try (Lease lease = lb.acquire(RequestContext.none())) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://" + lease.endpoint().authority() + "/"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        lease.failure();
        throw new IOException("status " + r.statusCode());
      }
      lease.success();
      return r.body();
    }
  }

  @Test
  void threeInstancesDiscoveredThenWarningAndCriticalChangeWeightsAndRoutingWithinASecond()
      throws Exception {
    List<ConsulRegistration> regs = List.of(register(0, 10), register(1, 10), register(2, 10));
    balancer(source());
    assertThat(lb.snapshot().endpoints())
        .extracting(EndpointSnapshot::id)
        .containsExactlyInAnyOrder(id(0), id(1), id(2));
    assertThat(endpoint(id(0)).endpoint().zone()).isEqualTo("z0");
    assertThat(endpoint(id(0)).configuredWeight()).isEqualTo(10);

    regs.get(0).warn("slow disk");
    await()
        .atMost(1, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> endpoint(id(0)).configuredWeight() == 1);
    assertThat(endpoint(id(0)).routable()).as("warning stays routable, with less").isTrue();

    regs.get(0).fail("disk gone");
    await()
        .atMost(1, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> endpoint(id(0)).state() == EndpointState.UNHEALTHY);
    assertThat(endpoint(id(0)).lastTransition().reason())
        .contains("critical")
        .contains("disk gone");
    for (int n = 0; n < 60; n++) {
      assertThat(call()).isNotEqualTo(id(0));
    }

    regs.get(0).pass("back");
    await()
        .atMost(1, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> endpoint(id(0)).state() == EndpointState.HEALTHY);
  }

  @Test
  void maintenanceDrainsThatInstanceAndDeregistrationDrainsThenRemoves() throws Exception {
    List<ConsulRegistration> regs = List.of(register(0, 1), register(1, 1), register(2, 1));
    balancer(source());
    Lease held = leaseOn(id(1));
    regs.get(1).maintenance(true, "deploy");
    await()
        .atMost(1, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> endpoint(id(1)).state() == EndpointState.MAINT);
    assertThat(lb.inFlight(id(1))).as("in-flight work is not cut").isEqualTo(1);
    for (int n = 0; n < 30; n++) {
      assertThat(call()).isNotEqualTo(id(1));
    }
    held.success();
    regs.get(1).maintenance(false, "done");
    await()
        .atMost(1, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> endpoint(id(1)).state() == EndpointState.HEALTHY);

    Lease inFlight = leaseOn(id(2));
    Consul consul = Consul.builder().withUrl(RealConsulAgent.URL).withPing(false).build();
    consul.agentClient().deregister(id(2));
    consul.destroy();
    await()
        .atMost(1, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> endpoint(id(2)).state() == EndpointState.DRAINING);
    assertThat(endpoint(id(2)).routable()).isFalse();
    inFlight.success();
    await()
        .atMost(1, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> lb.snapshot().endpoint(id(2)).isEmpty());
  }

  private Lease leaseOn(String id) {
    for (int n = 0; n < 1_000; n++) {
      Lease l = lb.acquire(RequestContext.none());
      if (l.endpoint().id().equals(id)) {
        return l;
      }
      l.success();
    }
    throw new AssertionError("never picked " + id);
  }

  @Test
  void agentKilledRoutingContinuesWithNoFailuresAndARestartedAgentIsFollowed() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        RealConsulAgent.managedByScript(),
        "the agent was not started by scripts/consul-agent.sh, so this test cannot restart"
            + " it");
    register(0, 1);
    register(1, 1);
    register(2, 1);
    balancer(source().shrinkGuard(50, Duration.ofMinutes(5)));
    assertThat(lb.snapshot().routableCount()).isEqualTo(3);

    String stopped = RealConsulAgent.script("stop");
    assertThat(RealConsulAgent.reachable()).as("agent stopped: " + stopped).isFalse();
    int failures = 0;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    int calls = 0;
    while (System.nanoTime() < until && calls < 2_000) {
      try {
        call();
      } catch (IOException e) {
        failures++;
      }
      calls++;
    }
    assertThat(failures).as("failed requests while the agent was down, of " + calls).isZero();
    assertThat(lb.snapshot().source().problem()).contains("keeping the last good set");
    assertThat(lb.snapshot().routableCount()).isEqualTo(3);

    String started = RealConsulAgent.script("start");
    assertThat(RealConsulAgent.reachable()).as("agent restarted: " + started).isTrue();
    // A dev agent forgets everything: its first answer is empty, which the guard holds back.
    await()
        .atMost(5, TimeUnit.SECONDS)
        .until(() -> String.valueOf(lb.snapshot().source().problem()).contains("holding"));
    assertThat(lb.snapshot().routableCount()).isEqualTo(3);
    assertThat(call()).startsWith(service);

    // The instances register again (as their own agents would); one with a new weight. The
    // index
    // now starts low again: the watcher must follow it without a restart.
    registrations.forEach(ConsulRegistration::close);
    registrations.clear();
    register(0, 1);
    register(1, 1);
    backends.get(2).stop(0);
    backends.remove(2);
    ConsulRegistration heavier = register(2, 7);
    await()
        .atMost(5, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () ->
                lb.snapshot()
                        .endpoint(heavier.id())
                        .map(e -> e.configuredWeight() == 7)
                        .orElse(false)
                    && lb.snapshot().source().problem() == null);
    assertThat(lb.snapshot().routableCount()).isEqualTo(3);
    for (int n = 0; n < 30; n++) {
      assertThat(call()).startsWith(service);
    }
  }

  @Test
  void selfRegistrationWithAnHttpCheckRoundTripsAndShutsDownThroughMaintenance() throws Exception {
    HttpServer b = backend("self");
    int port = b.getAddress().getPort();
    ConsulRegistration self =
        ConsulRegistration.builder(service, port)
            .agent(RealConsulAgent.URL)
            .id(service + "-self")
            .address("127.0.0.1")
            .httpCheck("http://127.0.0.1:" + port + "/healthz", Duration.ofSeconds(1))
            .deregisterCriticalAfter(Duration.ofMinutes(1))
            .drainWait(Duration.ofSeconds(2))
            .register();
    registrations.add(self);
    balancer(source().shrinkGuard(100, Duration.ZERO));
    await()
        .atMost(5, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () ->
                lb.snapshot()
                    .endpoint(self.id())
                    .map(e -> e.state() == EndpointState.HEALTHY)
                    .orElse(false));
    assertThat(call()).isEqualTo("self");

    Thread closer = new Thread(self::close);
    closer.start();
    await()
        .atMost(1500, TimeUnit.MILLISECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> endpoint(self.id()).state() == EndpointState.MAINT);
    assertThat(lb.snapshot().endpoint(self.id()))
        .as("still there during the drain wait")
        .isPresent();
    closer.join(10_000);
    await()
        .atMost(2, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> lb.snapshot().endpoint(self.id()).isEmpty());
    Consul consul = Consul.builder().withUrl(RealConsulAgent.URL).withPing(false).build();
    assertThat(consul.agentClient().isRegistered(self.id())).isFalse();
    consul.destroy();
  }

  @Test
  void ttlHeartbeatsKeepTheCheckPassingPastItsTtl() throws Exception {
    HttpServer b = backend("ttl");
    boolean[] healthy = {true};
    ConsulRegistration self =
        ConsulRegistration.builder(service, b.getAddress().getPort())
            .agent(RealConsulAgent.URL)
            .id(service + "-ttl")
            .address("127.0.0.1")
            .ttlCheck(Duration.ofSeconds(1), () -> healthy[0])
            .drainWait(Duration.ZERO)
            .register();
    registrations.add(self);
    balancer(source());
    assertThat(endpoint(self.id()).state()).isEqualTo(EndpointState.HEALTHY);
    // Healthy at every look for 2.5 TTLs: without heartbeats the check turns critical after 1.
    await()
        .during(Duration.ofMillis(2_500))
        .atMost(Duration.ofMillis(3_500))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> endpoint(self.id()).state() == EndpointState.HEALTHY);
    healthy[0] = false;
    await()
        .atMost(2, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> endpoint(self.id()).state() == EndpointState.UNHEALTHY);
    assertThat(endpoint(self.id()).lastTransition().reason())
        .contains("health supplier says unhealthy");
  }
}
