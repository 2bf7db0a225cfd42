package io.miniloadbalancer.consul;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The real Consul agent the integration tests run against: the one {@code .ci/run} started, or one
 * started here with {@code scripts/consul-agent.sh}. When none can be had, every test that needs it
 * is aborted (reported as skipped) with a line on stderr saying the real-agent tests did not run.
 */
public final class RealConsulAgent {

  public static final String URL = System.getProperty("consul.url", "http://127.0.0.1:18500");
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private static volatile String unavailable;
  private static volatile boolean checked;

  private RealConsulAgent() {}

  /** Aborts the calling test, loudly, when there is no agent. */
  public static synchronized void require() {
    if (!checked) {
      checked = true;
      if (!reachable()) {
        String out = script("start");
        if (!reachable()) {
          unavailable = "no Consul agent at " + URL + " and the script could not start one: " + out;
        }
      }
      if (unavailable != null) {
        System.err.println();
        System.err.println("!!! REAL-AGENT TESTS DID NOT RUN: " + unavailable);
        System.err.println();
      }
    }
    Assumptions.assumeTrue(
        unavailable == null, () -> "REAL-AGENT TESTS DID NOT RUN: " + unavailable);
  }

  public static boolean reachable() {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(URL + "/v1/status/leader"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && r.body().contains("127.0.0.1");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Whether this agent is the script's (so tests may stop and restart it). */
  static boolean managedByScript() {
    Path script = scriptPath();
    return script != null
        && Files.exists(script.getParent().getParent().resolve("target/consul/agent.pid"));
  }

  /** Runs {@code consul-agent.sh start|stop}; returns its output. */
  static String script(String command) {
    Path script = scriptPath();
    if (script == null) {
      return "consul.agentScript is not set";
    }
    try {
      Process p =
          new ProcessBuilder("bash", script.toString(), command).redirectErrorStream(true).start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "consul-agent.sh " + command + " timed out";
      }
      return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip()
          + " (exit "
          + p.exitValue()
          + ")";
    } catch (IOException e) {
      return "consul-agent.sh " + command + " failed: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static Path scriptPath() {
    String s = System.getProperty("consul.agentScript");
    return s == null ? null : Path.of(s);
  }
}
