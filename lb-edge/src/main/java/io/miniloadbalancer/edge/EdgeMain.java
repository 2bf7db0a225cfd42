package io.miniloadbalancer.edge;

import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.config.EffectiveConfig;
import io.miniloadbalancer.edge.config.InvalidConfigException;
import io.miniloadbalancer.edge.logging.LogSettings;
import io.netty.util.ResourceLeakDetector;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code java -jar edge-proxy.jar [--config edge.yaml] [--demo]}; {@code healthcheck <url>} for
 * container health checks (exit 0 on HTTP 200); {@code validate <file>} (exit 0, or 2 with the
 * start-up's messages); {@code config --effective [file]} (the YAML the proxy would run with, each
 * value marked file, env or default); {@code -V} (the artifact's version).
 *
 * <p>Exit codes: 0 after a clean SIGTERM drain, 2 for a configuration error (reported before any
 * port is bound), 1 when the proxy cannot start (a port in use) or the drain timed out. SIGHUP
 * reloads the config file.
 */
@Command(
    name = "edge-proxy",
    mixinStandardHelpOptions = true,
    versionProvider = EdgeMain.Version.class,
    description = "Edge Balancer's HTTP/1.1 edge proxy.",
    subcommands = {
      EdgeMain.HealthCheckCommand.class,
      EdgeMain.ValidateCommand.class,
      EdgeMain.ConfigCommand.class
    })
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

  private static final Set<String> SUBCOMMANDS = Set.of("healthcheck", "validate", "config");

  @Option(
      names = "--log-format",
      paramLabel = "text|json",
      description =
          "Log lines as text or JSON; default text on a terminal, JSON otherwise"
              + " (EDGE_LOG_FORMAT).")
  private String logFormat;

  /** Entry point. */
  public static void main(String[] args) {
    quietLeakDetector();
    int code = new CommandLine(new EdgeMain()).execute(args);
    if (code != 0 || !isServe(args)) {
      System.exit(code);
    }
  }

  /**
   * Netty's buffer-leak detector is on by default: it tracks one buffer in 128 and records a stack
   * trace for each, the largest single item of the proxy's allocation per request in the benchmark.
   * It is a development aid, so the proxy turns it off unless {@code
   * -Dio.netty.leakDetection.level} asks for it; the test suites run with Netty's default.
   */
  private static void quietLeakDetector() {
    if (System.getProperty("io.netty.leakDetection.level") == null
        && System.getProperty("io.netty.leakDetectionLevel") == null) {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }
  }

  private static boolean isServe(String[] args) {
    for (String a : args) {
      if (SUBCOMMANDS.contains(a)
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
        ConfigFiles.requirePools(cfg);
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
    if (config != null && !demo) {
      edge.enableReload(config, System.getenv());
    }
    CountDownLatch stopped = new CountDownLatch(1);
    DemoBackends toClose = backends;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  LOG.info(
                      "{}: readiness off, draining up to {}",
                      Signals.stopCause(),
                      cfg.server().drainTimeout());
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
    Signals.install(edge);
    stopped.await();
    return 0;
  }

  /**
   * {@code healthcheck <url>}: exit 0 on HTTP 200, 1 otherwise; for ECS container health checks.
   */
  @Command(
      name = "healthcheck",
      mixinStandardHelpOptions = true,
      versionProvider = EdgeMain.Version.class,
      description = "GET the URL; exit 0 on HTTP 200, 1 otherwise.")
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
        if (r.statusCode() != 200) {
          System.err.println("healthcheck: " + url + " answered " + r.statusCode());
          return 1;
        }
        return 0;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        System.err.println("healthcheck: interrupted");
        return 1;
      } catch (Exception e) {
        System.err.println("healthcheck: " + url + ": " + reason(e));
        return 1;
      }
    }

    /** A failure in words: the exception's class is no message for an operator. */
    static String reason(Exception e) {
      Throwable t = e;
      while (t.getCause() != null && !(t instanceof ConnectException)) {
        t = t.getCause();
      }
      if (t instanceof ConnectException) {
        return "connection refused (is the proxy running and listening on that port?)";
      }
      if (e instanceof HttpConnectTimeoutException) {
        return "no connection within 2 s";
      }
      if (e instanceof HttpTimeoutException) {
        return "no answer within 3 s";
      }
      if (e instanceof IllegalArgumentException) {
        return "not an http:// or https:// URL";
      }
      if (t instanceof UnknownHostException) {
        return "unknown host";
      }
      return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }
  }

  /** {@code validate <file>}: the start-up's checks, without starting. */
  @Command(
      name = "validate",
      mixinStandardHelpOptions = true,
      versionProvider = EdgeMain.Version.class,
      description = "Check a config file as start-up would; exit 0 when valid, 2 otherwise.")
  static final class ValidateCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "the YAML config file")
    private Path file;

    @Override
    public Integer call() {
      try {
        EdgeConfig cfg = ConfigFiles.load(file, System.getenv());
        ConfigFiles.requirePools(cfg);
        System.out.println(file + ": valid; pools " + cfg.pools().keySet());
        return 0;
      } catch (InvalidConfigException e) {
        System.err.println("edge-proxy: configuration error: " + e.getMessage());
        return 2;
      }
    }
  }

  /** {@code config --effective [file]}: the configuration with each value's source. */
  @Command(
      name = "config",
      mixinStandardHelpOptions = true,
      versionProvider = EdgeMain.Version.class,
      description =
          "Print the effective configuration as YAML, each value marked file, env or default.")
  static final class ConfigCommand implements Callable<Integer> {

    @Option(
        names = "--effective",
        required = true,
        description = "the configuration after defaults and EDGE_* variables")
    private boolean effective;

    @Parameters(index = "0", arity = "0..1", description = "the YAML config file (none: defaults)")
    private Path file;

    @Override
    public Integer call() {
      try {
        System.out.print(EffectiveConfig.render(file, System.getenv()));
        return 0;
      } catch (InvalidConfigException e) {
        System.err.println("edge-proxy: configuration error: " + e.getMessage());
        return 2;
      }
    }
  }

  /** The artifact's version: the build's filtered resource, else the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {

    @Override
    public String[] getVersion() {
      return new String[] {"edge-proxy " + version()};
    }

    static String version() {
      try (InputStream in = EdgeMain.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          Properties p = new Properties();
          p.load(in);
          String v = p.getProperty("version");
          if (v != null && !v.startsWith("$")) {
            return v;
          }
        }
      } catch (IOException e) {
        // Fall through to the manifest.
      }
      String v = EdgeMain.class.getPackage().getImplementationVersion();
      return v != null ? v : "unknown";
    }
  }
}
