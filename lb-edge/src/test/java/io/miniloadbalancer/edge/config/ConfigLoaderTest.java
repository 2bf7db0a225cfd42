package io.miniloadbalancer.edge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
  void errorsNameTheKeyAndTheLine() {
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
}
