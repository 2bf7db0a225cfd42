package io.miniloadbalancer.edge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.miniloadbalancer.core.HealthCheck;
import io.miniloadbalancer.core.HealthProbes;
import io.miniloadbalancer.core.OutlierDetection;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private final ConfigLoader loader = new ConfigLoader();

  private static final String POOL =
      "pools:\n  api:\n    endpoints:\n      - {host: 127.0.0.1, port: 9000}\n";

  @Test
  void defaultsAndDurations() throws Exception {
    EdgeConfig c = loader.load("server:\n  drainTimeout: 15s\n" + POOL, "edge.yaml", Map.of());
    assertThat(c.server().port()).isEqualTo(8080);
    assertThat(c.server().drainTimeout()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.admin().bind()).isEqualTo("127.0.0.1");
    assertThat(c.pools().get("api").endpoints().get(0).effectiveId()).isEqualTo("127.0.0.1:9000");
  }

  @Test
  void messagesSuggestTheKeyMeantAndSayTheTypeAndTheOsReasonInWords(@TempDir Path dir) {
    assertThatThrownBy(
            () -> loader.load("server:\n  drainTimout: 5s\n" + POOL, "edge.yaml", Map.of()))
        .hasMessageStartingWith(
            "edge.yaml line 2: server.drainTimout: Unrecognized field \"drainTimout\" (did you"
                + " mean \"drainTimeout\"?)");
    assertThatThrownBy(() -> loader.load("server:\n  workers: two\n" + POOL, "edge.yaml", Map.of()))
        .hasMessage("edge.yaml line 2: server.workers: expected a whole number, was \"two\"");
    assertThatThrownBy(() -> loader.load(dir.resolve("missing.yaml"), Map.of()))
        .hasMessage("cannot read config file " + dir.resolve("missing.yaml") + ": no such file");
    // Tests run as root here, where no file is unreadable: the mapping itself.
    assertThat(ConfigLoader.reason(new AccessDeniedException("/etc/edge.yaml")))
        .isEqualTo("permission denied");
    assertThatThrownBy(() -> loader.load(dir, Map.of()))
        .hasMessageStartingWith("cannot read config file " + dir + ": ")
        .hasMessageNotContaining("Exception");
  }

  @Test
  void errorsNameTheKeyAndTheLine() throws Exception {
    assertThatThrownBy(() -> loader.load("server:\n  port: 0x\n" + POOL, "edge.yaml", Map.of()))
        .hasMessageContaining("edge.yaml line 2")
        .hasMessageContaining("server.port");
    // An unknown key is reported on its own line, even when its value starts on the next one.
    assertThatThrownBy(() -> loader.load("server:\n  prot: 80\n" + POOL, "edge.yaml", Map.of()))
        .hasMessageMatching("edge\\.yaml line 2: server\\.prot: Unrecognized field \"prot\".*");
    assertThatThrownBy(
            () ->
                loader.load(
                    "server:\n  port: 80\n  tls:\n    cert: x\n" + POOL, "edge.yaml", Map.of()))
        .hasMessageMatching("edge\\.yaml line 3: server\\.tls: Unrecognized field \"tls\".*");
    assertThatThrownBy(
            () ->
                loader.load(
                    "pools:\n"
                        + "  api:\n"
                        + "    endpoints:\n"
                        + "      - {host: a, port: 1}\n"
                        + "      - {host: b, prt: 2}\n",
                    "edge.yaml",
                    Map.of()))
        .as("a misspelt required key: the item's line and what it lacks")
        .hasMessage("edge.yaml line 5: pools.api.endpoints[1]: port is required");
    assertThatThrownBy(() -> loader.load(POOL + "    strategy: fastest\n", "edge.yaml", Map.of()))
        .hasMessageContaining("pools.api")
        .hasMessageContaining("fastest")
        .hasMessageContaining("round-robin");
    assertThatThrownBy(
            () -> loader.load("server:\n  idleTimeout: soon\n" + POOL, "edge.yaml", Map.of()))
        .hasMessageContaining("line 2")
        .hasMessageContaining("server.idleTimeout");
    assertThatThrownBy(
            () -> loader.load("server:\n  transport: kqueue\n" + POOL, "edge.yaml", Map.of()))
        .hasMessageContaining("server.transport")
        .hasMessageContaining("kqueue")
        .hasMessageContaining("io_uring");
    assertThat(loader.load("server:\n  transport: EPOLL\n" + POOL, "edge.yaml", Map.of()))
        .extracting(c -> c.server().transport())
        .isEqualTo("epoll");
    assertThat(loader.load(POOL, "edge.yaml", Map.of("EDGE_SERVER_TRANSPORT", "nio")))
        .extracting(c -> c.server().transport())
        .isEqualTo("nio");
  }

  @Test
  void environmentOverridesAndTheirErrorsNameTheVariable() throws Exception {
    EdgeConfig c =
        loader.load(
            POOL,
            "edge.yaml",
            Map.of("EDGE_SERVER_DRAIN_TIMEOUT", "5s", "EDGE_ADMIN_PORT", "9999", "PATH", "/bin"));
    assertThat(c.server().drainTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.admin().port()).isEqualTo(9999);
    assertThatThrownBy(() -> loader.load(POOL, "edge.yaml", Map.of("EDGE_SERVER_PROT", "1")))
        .hasMessageContaining("EDGE_SERVER_PROT")
        .hasMessageContaining("EDGE_SERVER_PORT");
    assertThatThrownBy(() -> loader.load(POOL, "edge.yaml", Map.of("EDGE_SERVER_PORT", "99999")))
        .hasMessageContaining("EDGE_SERVER_PORT")
        .hasMessageContaining("server.port");
    assertThat(ConfigLoader.overridableKeys()).containsEntry("EDGE_ADMIN_TOKEN", "admin.token");
  }

  @Test
  void aPublicAdminNeedsAToken() {
    assertThatThrownBy(() -> loader.load("admin:\n  bind: 0.0.0.0\n" + POOL, "edge.yaml", Map.of()))
        .hasMessageContaining("admin.token");
  }

  @Test
  void healthOutlierAndTimeoutKeysReachLbCoreWithItsDefaults() throws Exception {
    EdgeConfig c =
        loader.load(
            POOL
                + "    requestTimeout: 5s\n"
                + "    healthCheck: {path: /ready, interval: 3s, fastInterval: 500ms,"
                + " downInterval: 10s, timeout: 700ms, rise: 4, fall: 5, jitter: 0.2,"
                + " newEndpointsWaitForProbe: true}\n"
                + "    outlier: {consecutiveFailures: 7, failureRate: 0.4, minRequests: 30,"
                + " interval: 20s, baseEjectionTime: 10s, maxEjectionTime: 2m,"
                + " ejectionJitter: 0.0, maxEjectionPercent: 50, trialRequests: 2,"
                + " activeCheckEndsEjection: false, dryRun: true, slowRequestThreshold: 8s}\n",
            "edge.yaml",
            Map.of());
    EdgeConfig.Pool p = c.pools().get("api");
    assertThat(p.requestTimeout()).isEqualTo(Duration.ofSeconds(5));
    HealthCheck h = p.activeHealthCheck().toHealthCheck("/");
    assertThat(h.interval()).isEqualTo(Duration.ofSeconds(3));
    assertThat(h.fastInterval()).isEqualTo(Duration.ofMillis(500));
    assertThat(h.downInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(h.timeout()).isEqualTo(Duration.ofMillis(700));
    assertThat(h.rise()).isEqualTo(4);
    assertThat(h.fall()).isEqualTo(5);
    assertThat(h.jitter()).isEqualTo(0.2);
    assertThat(h.newEndpointsWaitForProbe()).isTrue();
    OutlierDetection o = p.outlier().toOutlierDetection();
    assertThat(o.consecutiveFailures()).isEqualTo(7);
    assertThat(o.failureRate()).isEqualTo(0.4);
    assertThat(o.minRequests()).isEqualTo(30);
    assertThat(o.interval()).isEqualTo(Duration.ofSeconds(20));
    assertThat(o.baseEjectionTime()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.maxEjectionTime()).isEqualTo(Duration.ofMinutes(2));
    assertThat(o.ejectionJitter()).isZero();
    assertThat(o.maxEjectionPercent()).isEqualTo(50);
    assertThat(o.trialRequests()).isEqualTo(2);
    assertThat(o.activeCheckEndsEjection()).isFalse();
    assertThat(o.dryRun()).isTrue();
    assertThat(o.slowRequestThreshold()).isEqualTo(Duration.ofSeconds(8));

    // Keys left out: lb-core's own defaults, whatever lb-core makes them.
    EdgeConfig d = loader.load(POOL + "    healthCheckPath: /health\n", "edge.yaml", Map.of());
    EdgeConfig.Pool dp = d.pools().get("api");
    assertThat(dp.requestTimeout()).isNull(); // upstream.responseTimeout applies
    assertThat(d.upstream().responseTimeout()).isEqualTo(Duration.ofSeconds(30));
    HealthCheck dh = dp.activeHealthCheck().toHealthCheck("/");
    HealthCheck core = HealthCheck.builder(HealthProbes.tcp(Duration.ofSeconds(1))).build();
    assertThat(dh).usingRecursiveComparison().ignoringFields("probe").isEqualTo(core);
    assertThat(OutlierSettings.defaults().toOutlierDetection())
        .usingRecursiveComparison()
        .isEqualTo(OutlierDetection.defaults());
  }

  @Test
  void healthOutlierAndTimeoutErrorsNameTheKey() {
    assertThatThrownBy(
            () ->
                loader.load(POOL + "    healthCheck: {path: /h, rise: 0}\n", "edge.yaml", Map.of()))
        .hasMessageContaining("line 5")
        .hasMessageContaining("pools.api.healthCheck.rise")
        .hasMessageContaining("must be at least 1, was 0");
    assertThatThrownBy(
            () ->
                loader.load(
                    POOL + "    healthCheck:\n      path: /h\n      fall: many\n",
                    "edge.yaml",
                    Map.of()))
        .hasMessageContaining("line 7")
        .hasMessageContaining("pools.api.healthCheck.fall");
    assertThatThrownBy(
            () -> loader.load(POOL + "    healthCheck: {rise: 2}\n", "edge.yaml", Map.of()))
        .hasMessageContaining("pools.api")
        .hasMessageContaining("healthCheck needs a path");
    assertThatThrownBy(
            () ->
                loader.load(
                    POOL + "    healthCheckPath: /a\n    healthCheck: {path: /b}\n",
                    "edge.yaml",
                    Map.of()))
        .hasMessageContaining("healthCheckPath and healthCheck.path both set");
    assertThatThrownBy(
            () ->
                loader.load(
                    POOL + "    outlier: {maxEjectionPercent: 120}\n", "edge.yaml", Map.of()))
        .hasMessageContaining("pools.api.outlier.maxEjectionPercent")
        .hasMessageContaining("must be in 0..100, was 120");
    assertThatThrownBy(
            () ->
                loader.load(
                    POOL + "    outlier: {baseEjectionTime: 1m, maxEjectionTime: 10s}\n",
                    "edge.yaml",
                    Map.of()))
        .hasMessageContaining("maxEjectionTime")
        .hasMessageContaining("baseEjectionTime");
    assertThatThrownBy(
            () ->
                loader.load(
                    POOL + "    outlierDetection: false\n    outlier: {dryRun: true}\n",
                    "edge.yaml",
                    Map.of()))
        .hasMessageContaining("outlierDetection is false");
    assertThatThrownBy(() -> loader.load(POOL + "    requestTimeout: 0s\n", "edge.yaml", Map.of()))
        .hasMessageContaining("pools.api")
        .hasMessageContaining("requestTimeout");
  }
}
