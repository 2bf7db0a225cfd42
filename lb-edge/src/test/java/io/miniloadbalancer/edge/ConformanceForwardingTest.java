package io.miniloadbalancer.edge;

import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.miniloadbalancer.edge.ConformanceRig.Upstream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * What the proxy tells backends about the client, and what it tells clients about itself: RFC 7239
 * ({@code Forwarded}) and the de-facto {@code X-Forwarded-*} fields, believed only from configured
 * trusted proxies; RFC 9110 15.5 / 15.6 error answers that say nothing about the inside (issue 14
 * items 10, 11, 13). Contract: README.md, "Hardening", "Forwarding" and "Error answers".
 */
@DisplayName("RFC 7239 / X-Forwarded-*, and RFC 9110 15.5-15.6 error answers without internals")
class ConformanceForwardingTest {

  private static final String SPOOFED =
      "X-Forwarded-For: 1.2.3.4\r\n"
          + "X-Forwarded-Proto: https\r\n"
          + "X-Forwarded-Host: evil.example\r\n"
          + "X-Forwarded-Port: 1\r\n"
          + "Forwarded: for=1.2.3.4;host=evil.example;proto=https\r\n";

  private ConformanceRig rig;
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeEach
  void captureLogs() {
    logs.start();
    root().addAppender(logs);
  }

  @AfterEach
  void stop() {
    root().detachAppender(logs);
    if (rig != null) {
      rig.close();
    }
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  // ---- forwarding ----------------------------------------------------------------------------

  private HostileBackend.Received forward(String trustedProxies, String headers) throws Exception {
    rig =
        ConformanceRig.start(
            trustedProxies.isEmpty() ? "" : "trustedProxies: " + trustedProxies, "");
    RawClient.Result r =
        rig.send(
            "GET /proxy/hostile/fwd HTTP/1.1\r\nHost: public.example\r\n" + headers + "\r\n",
            "GET");
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(r.first().status()).as(r.toString()).isEqualTo(200);
    rig.verify(soft, ConformanceRig.Expect.forwardedOnce(Upstream.REUSED));
    soft.assertAll();
    return rig.hostile.received().get(0);
  }

  @Test
  @DisplayName(
      "an untrusted client's X-Forwarded-* and Forwarded are replaced, never passed on (issue"
          + " 14 #11)")
  void untrustedClientValuesAreReplaced() throws Exception {
    HostileBackend.Received got = forward("", SPOOFED);
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(got.headers("X-Forwarded-For"))
        .as("X-Forwarded-For")
        .containsExactly("127.0.0.1");
    soft.assertThat(got.headers("X-Forwarded-Proto"))
        .as("X-Forwarded-Proto")
        .containsExactly("http");
    soft.assertThat(got.headers("X-Forwarded-Host"))
        .as("X-Forwarded-Host")
        .containsExactly("public.example");
    soft.assertThat(got.headers("X-Forwarded-Port"))
        .as("X-Forwarded-Port (the proxy's own, as nginx's $server_port)")
        .containsExactly(String.valueOf(rig.port()));
    soft.assertThat(got.headers("Forwarded")).as("Forwarded").isEmpty();
    soft.assertThat(String.join("\n", got.headerLines()))
        .as("no spoofed value anywhere")
        .doesNotContain("1.2.3.4", "evil.example");
    soft.assertAll();
  }

  @Test
  @DisplayName("a peer outside server.trustedProxies is untrusted")
  void peerOutsideTheTrustedRangesIsUntrusted() throws Exception {
    HostileBackend.Received got = forward("[10.0.0.0/8, 192.168.0.0/16]", SPOOFED);
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(got.headers("X-Forwarded-For")).containsExactly("127.0.0.1");
    soft.assertThat(got.headers("X-Forwarded-Proto")).containsExactly("http");
    soft.assertThat(got.headers("X-Forwarded-Host")).containsExactly("public.example");
    soft.assertThat(got.headers("Forwarded")).isEmpty();
    soft.assertAll();
  }

  @Test
  @DisplayName("several X-Forwarded-For lines from an untrusted client are all dropped")
  void severalSpoofedLinesAreAllDropped() throws Exception {
    HostileBackend.Received got =
        forward(
            "",
            "X-Forwarded-For: 1.2.3.4\r\n"
                + "X-Forwarded-For: 5.6.7.8\r\n"
                + "x-forwarded-for: 9.9.9.9\r\n");
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(got.headers("X-Forwarded-For")).containsExactly("127.0.0.1");
    soft.assertAll();
  }

  @Test
  @DisplayName("a trusted proxy's values are kept and its address appended to X-Forwarded-For")
  void trustedProxyValuesAreKept() throws Exception {
    HostileBackend.Received got =
        forward("[127.0.0.0/8]", SPOOFED.replace("X-Forwarded-Port: 1", "X-Forwarded-Port: 443"));
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(got.headers("X-Forwarded-For"))
        .as("X-Forwarded-For")
        .containsExactly("1.2.3.4, 127.0.0.1");
    soft.assertThat(got.headers("X-Forwarded-Proto"))
        .as("X-Forwarded-Proto")
        .containsExactly("https");
    soft.assertThat(got.headers("X-Forwarded-Host"))
        .as("X-Forwarded-Host")
        .containsExactly("evil.example");
    soft.assertThat(got.headers("X-Forwarded-Port")).as("X-Forwarded-Port").containsExactly("443");
    soft.assertThat(got.headers("Forwarded"))
        .as("Forwarded")
        .containsExactly("for=1.2.3.4;host=evil.example;proto=https");
    soft.assertAll();
  }

  @Test
  @DisplayName(
      "RFC 9110 5.3: a trusted proxy's X-Forwarded-For split over two lines keeps every hop")
  void trustedProxyListOverTwoLinesKeepsEveryHop() throws Exception {
    HostileBackend.Received got =
        forward("[127.0.0.0/8]", "X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n");
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(String.join(", ", got.headers("X-Forwarded-For")))
        .as("X-Forwarded-For")
        .isEqualTo("1.1.1.1, 2.2.2.2, 127.0.0.1");
    soft.assertAll();
  }

  @Test
  @DisplayName("a trusted proxy that sends nothing: the proxy's own values")
  void trustedProxyWithoutValues() throws Exception {
    HostileBackend.Received got = forward("[127.0.0.1/32]", "");
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(got.headers("X-Forwarded-For")).containsExactly("127.0.0.1");
    soft.assertThat(got.headers("X-Forwarded-Proto")).containsExactly("http");
    soft.assertThat(got.headers("X-Forwarded-Host")).containsExactly("public.example");
    soft.assertThat(got.headers("X-Forwarded-Port")).containsExactly(String.valueOf(rig.port()));
    soft.assertAll();
  }

  // ---- error answers -------------------------------------------------------------------------

  private static final Pattern ERROR_BODY =
      Pattern.compile(
          "\\{\"status\":(\\d{3}),\"error\":\"([^\"\\\\]{1,120})\",\"requestId\":\"([0-9A-Za-z-]{4,64})\"\\}");

  /**
   * A way to make the proxy answer an error itself.
   *
   * @param name the row's name
   * @param status the status it must answer
   * @param serverYaml extra server keys
   * @param request the raw request
   * @param detail a word the WARN line (not the client) must contain, or empty
   */
  record ErrorRow(String name, int status, String serverYaml, String request, String detail) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<ErrorRow> errors() {
    String get = "GET /proxy/hostile/e HTTP/1.1\r\nHost: a\r\n";
    return Stream.of(
        new ErrorRow("400 garbage request line", 400, "", "GARBAGE\r\n\r\n", ""),
        new ErrorRow(
            "400 Content-Length with Transfer-Encoding",
            400,
            "",
            "POST /proxy/hostile/e HTTP/1.1\r\n"
                + "Host: a\r\n"
                + "Content-Length: 1\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\n",
            ""),
        new ErrorRow(
            "404 unknown path (no pool list, issue 14 #10)",
            404,
            "",
            "GET /elsewhere HTTP/1.1\r\nHost: a\r\n\r\n",
            ""),
        new ErrorRow(
            "404 unknown pool", 404, "", "GET /proxy/nope/x HTTP/1.1\r\nHost: a\r\n\r\n", ""),
        new ErrorRow("405 CONNECT", 405, "", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", ""),
        new ErrorRow(
            "408 request head not complete in server.requestHeadTimeout",
            408,
            "requestHeadTimeout: 1s",
            "GET /proxy/hostile/e HTTP/1.1\r\nHost: a\r\nX-Slow: ",
            ""),
        new ErrorRow(
            "413 Content-Length above server.maxBodyBytes",
            413,
            "",
            "POST /proxy/hostile/e HTTP/1.1\r\n"
                + "Host: a\r\n"
                + "Content-Length: 209715200\r\n\r\n",
            ""),
        new ErrorRow(
            "414 request line too long",
            414,
            "",
            "GET /proxy/hostile/" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: a\r\n\r\n",
            ""),
        new ErrorRow(
            "431 header section too large",
            431,
            "",
            get + "X-Big: " + "a".repeat(20_000) + "\r\n\r\n",
            ""),
        new ErrorRow(
            "501 Transfer-Encoding: gzip, chunked",
            501,
            "",
            "POST /proxy/hostile/e HTTP/1.1\r\n"
                + "Host: a\r\n"
                + "Transfer-Encoding: gzip, chunked\r\n\r\n"
                + "0\r\n\r\n",
            ""),
        new ErrorRow(
            "505 HTTP/2.0", 505, "", "GET /proxy/hostile/e HTTP/2.0\r\nHost: a\r\n\r\n", ""),
        new ErrorRow(
            "502 a garbage answer from the backend",
            502,
            "",
            "GET /proxy/hostile/garbage HTTP/1.1\r\nHost: a\r\n\r\n",
            ""),
        new ErrorRow(
            "502 a dead pool: no endpoint id, address, port or errno (issue 14 #10)",
            502,
            "",
            "GET /proxy/dead/x HTTP/1.1\r\nHost: a\r\n\r\n",
            "secret-endpoint-id"),
        new ErrorRow(
            "504 no response head within upstream.responseTimeout",
            504,
            "",
            "GET /proxy/hostile/silent HTTP/1.1\r\nHost: a\r\n\r\n",
            ""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("errors")
  @DisplayName(
      "every error the proxy makes: {\"status\",\"error\",\"requestId\"}, X-Request-Id,"
          + " nothing internal, a WARN line with the id")
  void errorAnswers(ErrorRow row) throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      deadPort = s.getLocalPort(); // closed again at once: connections there are refused
    }
    rig =
        ConformanceRig.start(
            row.serverYaml(),
            "responseTimeout: 500ms",
            "  dead:\n    outlierDetection: false\n    endpoints:\n"
                + "      - {id: secret-endpoint-id, host: 127.0.0.1, port: "
                + deadPort
                + "}\n");
    rig.hostile.on("/garbage", HostileBackend.write("SURPRISE\r\n\r\n"));
    rig.hostile.on("/silent", HostileBackend.awaitClose(3_000));
    RawClient.Result r =
        rig.send(
            row.request(), row.request().substring(0, Math.max(1, row.request().indexOf(' '))));
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(r.finals()).as("one answer: " + r).hasSize(1);
    if (!r.finals().isEmpty()) {
      RawClient.Response e = r.first();
      soft.assertThat(e.status()).as("status: " + r).isEqualTo(row.status());
      soft.assertThat(e.header("Content-Type").orElse(""))
          .as("Content-Type")
          .startsWith("application/json");
      Matcher m = ERROR_BODY.matcher(e.bodyText());
      soft.assertThat(m.matches())
          .as(
              "body is exactly"
                  + " {\"status\":N,\"error\":\"...\",\"requestId\":\"...\"}: "
                  + e.bodyText())
          .isTrue();
      if (m.matches()) {
        soft.assertThat(Integer.parseInt(m.group(1)))
            .as("status in the body")
            .isEqualTo(row.status());
        String id = m.group(3);
        soft.assertThat(e.header("X-Request-Id")).as("X-Request-Id").hasValue(id);
        soft.assertThat(m.group(2))
            .as("error text is short and plain")
            .doesNotContainPattern("\\d+\\.\\d+\\.\\d+\\.\\d+|:\\d{2,5}");
        if (row.status() != 404) {
          // A 404 is the answer to a well-formed request for a path nobody serves:
          // routine, not a
          // protocol error, so no WARN line (scanners would fill the log); issue 20's
          // access log
          // is where it belongs. Every other error the proxy makes has its line.
          assertLogged(soft, id, row.detail());
        }
      }
      rig.assertNoInternals(soft, e);
      soft.assertThat(e.bodyText())
          .as("no endpoint id")
          .doesNotContain("secret-endpoint-id", String.valueOf(deadPort));
    }
    soft.assertAll();
  }

  /** One WARN line carries the request id (and the detail the client did not get). */
  private void assertLogged(SoftAssertions soft, String id, String detail) {
    try {
      await()
          .atMost(Duration.ofSeconds(1))
          .pollInterval(Duration.ofMillis(10))
          .until(() -> warnings(id).size() >= 1);
    } catch (ConditionTimeoutException e) {
      soft.fail("no WARN line with request id " + id + "; WARN lines: " + warnings(""));
      return;
    }
    List<String> lines = warnings(id);
    soft.assertThat(lines).as("WARN lines with request id " + id).hasSize(1);
    if (!detail.isEmpty()) {
      soft.assertThat(lines.get(0)).as("the WARN line has the detail").contains(detail);
    }
  }

  private List<String> warnings(String containing) {
    List<ILoggingEvent> events;
    synchronized (logs) { // AppenderBase.doAppend holds this lock while it adds
      events = List.copyOf(logs.list);
    }
    return events.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.contains(containing))
        .toList();
  }
}
