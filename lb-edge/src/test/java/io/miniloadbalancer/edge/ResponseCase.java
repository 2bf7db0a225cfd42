package io.miniloadbalancer.edge;

import io.miniloadbalancer.edge.ConformanceRig.Upstream;
import java.util.List;
import java.util.Locale;
import org.assertj.core.api.SoftAssertions;
import org.jspecify.annotations.Nullable;

/**
 * One row of a backend-side conformance table: what the {@link HostileBackend} answers, what the
 * client must get, and what becomes of the upstream connection.
 *
 * @param name the row's name, as shown in the report
 * @param request the client's request (its path is scripted on the backend)
 * @param steps the backend's answer to it
 * @param client checks on what the client got
 * @param upstream the upstream connection's fate
 * @param upstreamYaml extra {@code upstream:} keys for this row (e.g. a short responseTimeout)
 * @param endpointFault whether the row counts as a failure of the endpoint (lb-core outcome, seen
 *     in {@code lb_requests_total{outcome="failure"}}); null: not checked
 */
record ResponseCase(
    String name,
    String request,
    List<HostileBackend.Step> steps,
    ClientCheck client,
    Upstream upstream,
    String upstreamYaml,
    @Nullable Boolean endpointFault) {

  /** The path every row's request uses; the backend answers it with the row's steps. */
  static final String PATH = "/r";

  static final String GET = "GET /proxy/hostile/r HTTP/1.1\r\nHost: a\r\n\r\n";
  static final String HEAD = "HEAD /proxy/hostile/r HTTP/1.1\r\nHost: a\r\n\r\n";
  static final String GET_1_0 = "GET /proxy/hostile/r HTTP/1.0\r\n\r\n";

  /** What the client must have got. */
  @FunctionalInterface
  interface ClientCheck {
    void check(SoftAssertions soft, ConformanceRig rig, RawClient.Result result);
  }

  static ResponseCase row(
      String name,
      String request,
      ClientCheck client,
      Upstream upstream,
      HostileBackend.Step... steps) {
    return new ResponseCase(name, request, List.of(steps), client, upstream, "", null);
  }

  /** A GET whose answer is {@code steps}: the client gets a 502 and the connection is closed. */
  static ResponseCase badGateway(String name, HostileBackend.Step... steps) {
    return row(name, GET, badGateway(), Upstream.CLOSED, steps).fault(true);
  }

  ResponseCase withUpstream(String yaml) {
    return new ResponseCase(name, request, steps, client, upstream, yaml, endpointFault);
  }

  /** Whether this row must count as a failure of the endpoint. */
  ResponseCase fault(boolean fault) {
    return new ResponseCase(name, request, steps, client, upstream, upstreamYaml, fault);
  }

  /** The proxy's own 502: one answer, nothing of the backend's in it. */
  static ClientCheck badGateway() {
    return status(502);
  }

  /** The proxy's own error with {@code status}. */
  static ClientCheck status(int status) {
    return (soft, rig, r) -> {
      soft.assertThat(r.finals()).as("one answer: " + r).hasSize(1);
      soft.assertThat(r.leftover()).as("nothing unparseable after it: " + r).isEmpty();
      if (!r.finals().isEmpty()) {
        soft.assertThat(r.first().status()).as("status: " + r).isEqualTo(status);
        soft.assertThat(r.first().complete()).as("complete: " + r).isTrue();
        rig.assertNoInternals(soft, r.first());
      }
    };
  }

  /** The backend's response, relayed with exactly this status and body and nothing after it. */
  static ClientCheck relayed(int status, String body) {
    return (soft, rig, r) -> {
      soft.assertThat(r.finals()).as("exactly one response: " + r).hasSize(1);
      soft.assertThat(r.leftover()).as("nothing after it: " + r).isEmpty();
      if (!r.finals().isEmpty()) {
        soft.assertThat(r.first().status()).as("status: " + r).isEqualTo(status);
        soft.assertThat(r.first().bodyText()).as("body: " + r).isEqualTo(body);
        soft.assertThat(r.first().complete()).as("framing complete: " + r).isTrue();
      }
    };
  }

  /**
   * The head went out and the body broke: the client connection is closed with the body visibly
   * incomplete (no terminating 0-chunk, or fewer bytes than Content-Length).
   */
  static ClientCheck truncated(int status) {
    return (soft, rig, r) -> {
      soft.assertThat(r.finals()).as("one response head: " + r).hasSize(1);
      soft.assertThat(r.closed()).as("client connection closed: " + r).isTrue();
      if (!r.finals().isEmpty()) {
        soft.assertThat(r.first().status()).as("status: " + r).isEqualTo(status);
        soft.assertThat(r.first().complete())
            .as("the truncation is visible (no 0-chunk / short body): " + r)
            .isFalse();
        soft.assertThat(
                r.first().header("Transfer-Encoding").isPresent()
                    || r.first().header("Content-Length").isPresent())
            .as("the body is length-framed, so a cut shows: " + r)
            .isTrue();
      }
    };
  }

  /** Either a 502, or the response relayed with the offending field repaired ({@code repaired}). */
  static ClientCheck badGatewayOr(ClientCheck repaired) {
    return (soft, rig, r) -> {
      if (!r.finals().isEmpty() && r.first().status() == 502) {
        badGateway().check(soft, rig, r);
      } else {
        repaired.check(soft, rig, r);
      }
    };
  }

  static ClientCheck and(ClientCheck a, ClientCheck b) {
    return (soft, rig, r) -> {
      a.check(soft, rig, r);
      b.check(soft, rig, r);
    };
  }

  /** No header of the response has a name with whitespace nor a value with a control byte. */
  static ClientCheck cleanFields() {
    return (soft, rig, r) -> {
      for (RawClient.Response x : r.responses()) {
        for (RawClient.Header h : x.headers()) {
          soft.assertThat(h.name()).as("relayed field name").matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
          soft.assertThat(h.value())
              .as("relayed field value of " + h.name())
              .doesNotContainPattern("[\\x00-\\x08\\x0a-\\x1f\\x7f]");
        }
      }
    };
  }

  @Override
  public String toString() {
    return name;
  }

  /**
   * Runs this row: a fresh rig, the request, the client checks, then {@link ConformanceRig#verify}.
   */
  void run() throws Exception {
    try (ConformanceRig rig = ConformanceRig.start("", upstreamYaml)) {
      rig.hostile.on(PATH, steps);
      SoftAssertions soft = new SoftAssertions();
      String method = request.substring(0, request.indexOf(' '));
      RawClient.Result r = rig.send(request, method);
      client.check(soft, rig, r);
      // Every proxied response here is for HTTP/1.1 (or 1.0) framing the client can parse.
      for (RawClient.Response x : r.responses()) {
        soft.assertThat(x.statusLine().toUpperCase(Locale.ROOT))
            .as("status line")
            .startsWith("HTTP/1.");
      }
      if (endpointFault != null) {
        double failures = rig.endpointFailures("hostile");
        if (endpointFault) {
          soft.assertThat(failures)
              .as("counted as an endpoint failure" + " (lb_requests_total{outcome=failure})")
              .isGreaterThanOrEqualTo(1);
        } else {
          soft.assertThat(failures).as("not counted as an endpoint failure").isZero();
        }
      }
      rig.verify(soft, ConformanceRig.Expect.forwardedOnce(upstream));
      soft.assertAll();
    }
  }
}
