package io.miniloadbalancer.edge;

import static org.awaitility.Awaitility.await;

import io.miniloadbalancer.edge.config.ConfigFiles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The conformance suites' fixture: a proxy with one event loop ({@code server.workers: 1}) and one
 * pooled connection per endpoint ({@code upstream.maxConnectionsPerEndpoint: 1}, no retries), in
 * front of a {@link HostileBackend} (pool {@code hostile}) and a {@link CanaryBackend} (pool {@code
 * canary}). With one loop and one connection, "the next client" of every case runs on the same
 * worker and, when the contract keeps it, the same upstream connection as the case did; so a case
 * that leaves either in a bad state is caught by the check that follows it ({@link #verify}).
 */
final class ConformanceRig implements AutoCloseable {

  /** What the upstream connection used by a case must be afterwards. */
  enum Upstream {
    /** No request may reach the hostile backend at all. */
    UNTOUCHED,
    /** The case's connection is reused by the next client. */
    REUSED,
    /** The case's connection is closed (by the proxy or the backend) and never reused. */
    CLOSED,
    /**
     * Closed if the proxy wrote anything on it (a request it then abandoned); a connection it
     * opened but never used may stay in the pool.
     */
    CLOSED_IF_USED,
    /** Either: the contract does not say. */
    ANY
  }

  /**
   * What must hold after a case.
   *
   * @param hostileMin fewest requests the hostile backend must have read (complete or not)
   * @param hostileMax most requests the hostile backend may have read
   * @param canaryRequests requests the canary must have served
   * @param upstream the fate of the case's upstream connection
   */
  record Expect(int hostileMin, int hostileMax, int canaryRequests, Upstream upstream) {

    static Expect nothingForwarded() {
      return new Expect(0, 0, 0, Upstream.UNTOUCHED);
    }

    static Expect forwardedOnce(Upstream upstream) {
      return new Expect(1, 1, 0, upstream);
    }

    static Expect forwarded(int requests, Upstream upstream) {
      return new Expect(requests, requests, 0, upstream);
    }
  }

  static final String NEXT_BODY = "next-ok";

  final HostileBackend hostile;
  final CanaryBackend canary;
  final EdgeProxy edge;

  private ConformanceRig(HostileBackend hostile, CanaryBackend canary, EdgeProxy edge) {
    this.hostile = hostile;
    this.canary = canary;
    this.edge = edge;
  }

  /**
   * Starts backends and proxy; {@code serverYaml} and {@code upstreamYaml} are extra keys, one per
   * line.
   */
  static ConformanceRig start(String serverYaml, String upstreamYaml) throws Exception {
    return start(serverYaml, upstreamYaml, "");
  }

  /** As {@link #start(String, String)}, with more pools ({@code poolsYaml}, indented as pools). */
  static ConformanceRig start(String serverYaml, String upstreamYaml, String poolsYaml)
      throws Exception {
    HostileBackend hostile = new HostileBackend();
    CanaryBackend canary = new CanaryBackend();
    hostile.on("/next", HostileBackend.ok(NEXT_BODY));
    String yaml =
        "server:\n  port: 0\n  workers: 1\n"
            + indent(serverYaml)
            + "admin:\n  port: 0\n"
            + "upstream:\n  maxConnectionsPerEndpoint: 1\n  maxRetries: 0\n"
            + indent(upstreamYaml)
            + "pools:\n"
            + "  hostile:\n    outlierDetection: false\n    endpoints:\n"
            + "      - {id: hostile-endpoint-1, host: 127.0.0.1, port: "
            + hostile.port()
            + "}\n"
            + "  canary:\n    outlierDetection: false\n    endpoints:\n"
            + "      - {id: canary-endpoint-1, host: 127.0.0.1, port: "
            + canary.port()
            + "}\n"
            + poolsYaml;
    try {
      EdgeProxy edge =
          EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", Map.of()), EnvironmentInfo.none());
      return new ConformanceRig(hostile, canary, edge);
    } catch (Exception | Error e) {
      hostile.close();
      canary.close();
      throw e;
    }
  }

  static ConformanceRig start() throws Exception {
    return start("", "");
  }

  private static String indent(String lines) {
    StringBuilder b = new StringBuilder();
    for (String line : lines.split("\n")) {
      if (!line.isBlank()) {
        b.append("  ").append(line).append('\n');
      }
    }
    return b.toString();
  }

  int port() {
    return edge.proxyPort();
  }

  RawClient.Result send(String request, String... methods) throws IOException {
    return RawClient.exchange(port(), request, methods);
  }

  /**
   * The checks every case ends with: exactly the expected requests reached the backends (nothing
   * smuggled, nothing pipelined behind a refusal), the case's upstream connection met its expected
   * fate, and the next client, on the same worker and pool, gets a correct answer from both pools.
   */
  void verify(SoftAssertions soft, Expect expect) {
    String wanted =
        (expect.hostileMin() == expect.hostileMax()
                ? "" + expect.hostileMin()
                : expect.hostileMin() + ".." + expect.hostileMax())
            + " hostile and "
            + expect.canaryRequests()
            + " canary requests";
    try {
      await("backends settle at " + wanted)
          .pollInterval(Duration.ofMillis(10))
          .during(Duration.ofMillis(60))
          .atMost(Duration.ofSeconds(1))
          .until(
              () -> {
                int n = hostile.received().size();
                return n >= expect.hostileMin()
                    && n <= expect.hostileMax()
                    && canary.seen().size() == expect.canaryRequests();
              });
    } catch (ConditionTimeoutException e) {
      soft.fail(
          "requests reaching the backends: expected "
              + wanted
              + "; hostile got "
              + hostile.received()
              + ", canary got "
              + canary.seen());
    }
    List<HostileBackend.Received> before = hostile.received();
    // The case's upstream connection: the newest one the backend accepted (0: none).
    int caseConnection = hostile.connections();
    Upstream upstream = expect.upstream();
    if (upstream == Upstream.CLOSED_IF_USED) {
      upstream =
          caseConnection > 0 && hostile.used(caseConnection) ? Upstream.CLOSED : Upstream.ANY;
    }
    if (upstream == Upstream.CLOSED && caseConnection > 0) {
      try {
        await("upstream connection #" + caseConnection + " closed")
            .pollInterval(Duration.ofMillis(10))
            .atMost(Duration.ofSeconds(2))
            .until(() -> hostile.isClosed(caseConnection));
      } catch (ConditionTimeoutException e) {
        soft.fail(
            "the case's upstream connection #"
                + caseConnection
                + " was left open (must be closed, never reused)");
      }
    }
    if (upstream == Upstream.UNTOUCHED) {
      soft.assertThat(hostile.usedConnections())
          .as("upstream connections the proxy wrote on")
          .isZero();
    }
    nextClient(soft, caseConnection, upstream);
    List<HostileBackend.Received> after = hostile.received();
    soft.assertThat(after.size())
        .as("hostile backend requests after the next client (only /next added): " + after)
        .isEqualTo(before.size() + 1);
  }

  /** The next client on a fresh connection: both pools answer it correctly. */
  private void nextClient(SoftAssertions soft, int caseConnection, Upstream upstream) {
    try (RawClient.Connection c = new RawClient.Connection(port())) {
      RawClient.Response r =
          c.send("GET /proxy/hostile/next HTTP/1.1\r\nHost: next.example\r\n\r\n", 3_000);
      soft.assertThat(r.status())
          .as("next client: status from the hostile pool " + r)
          .isEqualTo(200);
      soft.assertThat(r.bodyText())
          .as("next client: body from the hostile pool")
          .isEqualTo(NEXT_BODY);
      RawClient.Response k =
          c.send("GET /proxy/canary/next HTTP/1.1\r\nHost: next.example\r\n\r\n", 3_000);
      soft.assertThat(k.status())
          .as("next client: status from the canary pool " + k)
          .isEqualTo(200);
      soft.assertThat(k.bodyText())
          .as("next client: body from the canary pool")
          .isEqualTo("canary-ok");
    } catch (IOException e) {
      soft.fail("next client failed: " + e.getMessage() + "; hostile log " + hostile.received());
      return;
    }
    List<HostileBackend.Received> log = hostile.received();
    HostileBackend.Received next = log.isEmpty() ? null : log.get(log.size() - 1);
    if (next == null || !next.path().equals("/next")) {
      soft.fail("the next client's request is not the last the hostile backend read: " + log);
      return;
    }
    if (upstream == Upstream.REUSED && caseConnection > 0) {
      soft.assertThat(next.connection())
          .as("the next client reuses the case's pooled upstream connection")
          .isEqualTo(caseConnection);
    } else if (upstream == Upstream.CLOSED && caseConnection > 0) {
      soft.assertThat(next.connection())
          .as(
              "the next client is on a new upstream connection (the case's was not"
                  + " trustworthy)")
          .isNotEqualTo(caseConnection);
    }
  }

  private static final Pattern IPV4 =
      Pattern.compile("\\b\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\b");

  /**
   * A response the proxy made itself tells nothing about the inside: no pool or endpoint name, no
   * address or port, no errno or Java class.
   */
  void assertNoInternals(SoftAssertions soft, RawClient.Response r) {
    String body = r.bodyText();
    soft.assertThat(body)
        .as("proxy error body reveals nothing internal: " + body)
        .doesNotContain(
            "hostile",
            "canary",
            "endpoint-1",
            String.valueOf(hostile.port()),
            String.valueOf(canary.port()),
            "Exception",
            "java.",
            "netty",
            "errno",
            "refused",
            "pools")
        .doesNotContainPattern(IPV4);
  }

  /**
   * Asserts a proxy-made error: the status is one of {@code statuses} and it tells nothing
   * internal.
   */
  void assertProxyError(SoftAssertions soft, RawClient.Result result, Set<Integer> statuses) {
    List<RawClient.Response> finals = result.finals();
    soft.assertThat(finals)
        .as("exactly one answer (nothing after the refusal): " + result)
        .hasSize(1);
    if (!finals.isEmpty()) {
      soft.assertThat(finals.get(0).status()).as("status " + result).isIn(statuses.toArray());
      assertNoInternals(soft, finals.get(0));
    }
  }

  private static final Pattern FAILURES =
      Pattern.compile("(?m)^lb_requests_total\\{([^}]*)\\} ([0-9.E+-]+)$");

  /**
   * Requests of {@code pool} that ended as endpoint failures, from the admin {@code /metrics}
   * (lb-core's outcome, as outlier detection sees it); -1 when the metric is missing.
   */
  double endpointFailures(String pool) {
    String metrics;
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      metrics =
          http.send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + edge.adminPort() + "/metrics"))
                      .timeout(Duration.ofSeconds(3))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
    java.util.regex.Matcher m = FAILURES.matcher(metrics);
    while (m.find()) {
      if (m.group(1).contains("outcome=\"failure\"")
          && m.group(1).contains("pool=\"" + pool + "\"")) {
        return Double.parseDouble(m.group(2));
      }
    }
    return -1;
  }

  @Override
  public void close() {
    edge.close();
    hostile.close();
    canary.close();
  }
}
