package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.config.EffectiveConfig;
import io.miniloadbalancer.edge.config.InvalidConfigException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line: validate, config --effective, the version, healthcheck's help and errors. */
class EdgeCliTest {

  @TempDir Path dir;

  private final PrintStream realOut = System.out;
  private final PrintStream realErr = System.err;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void capture() {
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() {
    System.setOut(realOut);
    System.setErr(realErr);
  }

  private int run(String... args) {
    return new CommandLine(new EdgeMain()).execute(args);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private Path write(String name, String yaml) throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, yaml);
    return f;
  }

  private static final String GOOD =
      "server:\n"
          + "  port: 8081\n"
          + "pools:\n"
          + "  app:\n"
          + "    endpoints:\n"
          + "      - {host: 127.0.0.1, port: 9000}\n";

  @Test
  void validateAcceptsAGoodFileAndRefusesABadOneWithTheStartUpMessage() throws Exception {
    assertThat(run("validate", write("good.yaml", GOOD).toString())).isZero();
    assertThat(out()).contains("good.yaml: valid; pools [app]");

    Path bad = write("bad.yaml", GOOD.replace("port: 8081", "port: 80x"));
    String startUp =
        catchThrowableOfType(InvalidConfigException.class, () -> ConfigFiles.load(bad, Map.of()))
            .getMessage();
    assertThat(run("validate", bad.toString())).isEqualTo(2);
    assertThat(err()).isEqualTo("edge-proxy: configuration error: " + startUp + "\n");
    assertThat(startUp).contains("line 2").contains("server.port");
  }

  @Test
  void aMissingFileAndAConfigWithoutPoolsAreRefusedInWords() throws Exception {
    assertThat(run("validate", dir.resolve("nope.yaml").toString())).isEqualTo(2);
    assertThat(err()).contains("nope.yaml: no such file").doesNotContain("Exception");
    assertThat(run("validate", write("empty.yaml", "pools: {}\n").toString())).isEqualTo(2);
    assertThat(err()).contains("no pools configured");
    assertThat(run("--config", dir.resolve("empty.yaml").toString())).isEqualTo(2);
    assertThat(err()).contains("no pools configured");
  }

  @Test
  void effectiveConfigMarksEachValuesSource() throws Exception {
    Path f = write("e.yaml", GOOD + "admin:\n  token: s3cret-token\n");
    String yaml = EffectiveConfig.render(f, Map.of("EDGE_ADMIN_PORT", "9999", "HOME", "/root"));
    assertThat(yaml)
        .contains("server:  # file\n  bind: 0.0.0.0  # default\n  port: 8081  # file\n")
        .contains("  drainTimeout: 20s  # default\n")
        .contains("  port: 9999  # env EDGE_ADMIN_PORT\n")
        .contains("  token: \"<redacted>\"  # file\n")
        .doesNotContain("s3cret")
        .contains("        host: 127.0.0.1  # file\n        port: 9000  # file\n")
        .contains("        weight: 1  # default\n");
    assertThat(run("config", "--effective", f.toString())).isZero();
    assertThat(out()).contains("  port: 8081  # file\n");
  }

  @Test
  void versionIsTheArtifactsAndHealthcheckHasHelpAndClearErrors() throws Exception {
    assertThat(run("-V")).isZero();
    assertThat(out().strip())
        .isEqualTo("edge-proxy " + EdgeMain.Version.version())
        .matches("edge-proxy \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    out.reset();
    assertThat(run("healthcheck", "--help")).isZero();
    assertThat(out()).contains("Usage: edge-proxy healthcheck").contains("<url>");

    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    assertThat(run("healthcheck", "http://127.0.0.1:" + port + "/healthz")).isEqualTo(1);
    assertThat(err())
        .contains("connection refused")
        .contains("127.0.0.1:" + port)
        .doesNotContain("java.net");
  }
}
