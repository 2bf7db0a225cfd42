package io.miniloadbalancer.edge;

import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.config.InvalidConfigException;
import io.miniloadbalancer.edge.logging.LogSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code java -jar edge-proxy.jar [--config edge.yaml] [--demo]}, and {@code java -jar
 * edge-proxy.jar healthcheck <url>} for container health checks (exit 0 on HTTP 200).
 *
 * <p>Exit codes: 0 after a clean SIGTERM drain, 2 for a configuration error (reported before any
 * port is bound), 1 when the proxy cannot start (a port in use) or the drain timed out.
 */
@Command(
    name = "edge-proxy",
    mixinStandardHelpOptions = true,
    version = "edge-proxy 0.2.0-SNAPSHOT",
    description = "Edge Balancer's HTTP/1.1 edge proxy.",
    subcommands = EdgeMain.HealthCheckCommand.class)
public final class EdgeMain implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(EdgeMain.class);

  @Option(
      names = "--config",
      description = "YAML config file; EDGE_* environment variables override it.")
  private Path config;

  @Option(
      names = "--demo",
      description = "Start three local demo backends and a pool 'demo' of them.")
  private boolean demo;

  @Option(
      names = "--log-format",
      paramLabel = "text|json",
      description =
          "Log lines as text or JSON; default text on a terminal, JSON otherwise"
              + " (EDGE_LOG_FORMAT).")
  private String logFormat;

  /** Entry point. */
  public static void main(String[] args) {
    int code = new CommandLine(new EdgeMain()).execute(args);
    if (code != 0 || !isServe(args)) {
      System.exit(code);
    }
  }

  private static boolean isServe(String[] args) {
    for (String a : args) {
      if (a.equals("healthcheck")
          || a.equals("--help")
          || a.equals("-h")
          || a.equals("--version")
          || a.equals("-V")) {
        return false;
      }
    }
    return true;
  }

  @Override
  public Integer call() throws Exception {
    String logProblem = LogSettings.apply(logFormat, System.getenv());
    if (logProblem != null) {
      System.err.println("edge-proxy: configuration error: " + logProblem);
      return 2;
    }
    DemoBackends backends = null;
    EdgeConfig cfg;
    try {
      if (demo) {
        backends = new DemoBackends(3);
        cfg = ConfigFiles.parse(backends.config(8080, 9901), "demo config", System.getenv());
      } else if (config != null) {
        cfg = ConfigFiles.load(config, System.getenv());
      } else {
        System.err.println("edge-proxy: give --config <file> or --demo");
        return 2;
      }
    } catch (InvalidConfigException e) {
      System.err.println("edge-proxy: configuration error: " + e.getMessage());
      return 2;
    }
    EdgeProxy edge;
    try {
      edge = EdgeProxy.start(cfg);
    } catch (Exception e) {
      LOG.error("edge proxy could not start: {}", e.toString());
      if (backends != null) {
        backends.close();
      }
      return 1;
    }
    if (demo) {
      LOG.info(
          "demo: backends {}; try: curl http://127.0.0.1:{}/proxy/demo/hello ; curl"
              + " http://127.0.0.1:{}/admin/pools/demo",
          backends.ports(),
          edge.proxyPort(),
          edge.adminPort());
    }
    CountDownLatch stopped = new CountDownLatch(1);
    DemoBackends toClose = backends;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  LOG.info(
                      "SIGTERM: readiness off, draining up to {}", cfg.server().drainTimeout());
                  boolean clean = edge.drainAndStop();
                  if (toClose != null) {
                    toClose.close();
                  }
                  stopped.countDown();
                  // A JVM stopped by a signal exits 143; a clean drain is a clean
                  // stop.
                  Runtime.getRuntime().halt(clean ? 0 : 1);
                },
                "edge-shutdown"));
    stopped.await();
    return 0;
  }

  /**
   * {@code healthcheck <url>}: exit 0 on HTTP 200, 1 otherwise; for ECS container health checks.
   */
  @Command(name = "healthcheck", description = "GET the URL; exit 0 on HTTP 200, 1 otherwise.")
  static final class HealthCheckCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "for example http://127.0.0.1:8080/healthz")
    private URI url;

    @Override
    public Integer call() {
      try {
        HttpResponse<Void> r =
            HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(2))
                .build()
                .send(
                    HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.discarding());
        return r.statusCode() == 200 ? 0 : 1;
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        System.err.println("healthcheck: " + e);
        return 1;
      }
    }
  }
}
