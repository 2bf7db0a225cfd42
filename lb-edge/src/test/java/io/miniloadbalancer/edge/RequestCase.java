package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;
import org.assertj.core.api.SoftAssertions;

/**
 * One row of a client-side conformance table: raw request bytes from a hostile client and what the
 * proxy must do with them.
 *
 * <p>A row that expects the proxy to refuse and close gets a pipelined request to each pool
 * appended ({@link #PIPELINED_AFTER}): after an answer that closes the connection, nothing the
 * client sent behind it may reach a backend (issue 14, item 2).
 *
 * @param name the row's name, as shown in the report
 * @param request the bytes to send (ISO-8859-1)
 * @param statuses acceptable statuses of the (single) answer
 * @param closes whether the proxy must close the connection after answering
 * @param expect what the backends must have seen, and the upstream connection's fate
 * @param backendCheck more checks on what the hostile backend read (for forwarded rows)
 */
record RequestCase(
    String name,
    String request,
    Set<Integer> statuses,
    boolean closes,
    ConformanceRig.Expect expect,
    BiConsumer<SoftAssertions, List<HostileBackend.Received>> backendCheck) {

  /** Sent behind every refused request: a POST to the canary pool and a GET to the hostile pool. */
  static final String PIPELINED_AFTER =
      "POST /proxy/canary/pipelined-after HTTP/1.1\r\n"
          + "Host: a\r\n"
          + "Content-Length: 4\r\n\r\n"
          + "boomGET /proxy/hostile/pipelined-after HTTP/1.1\r\n"
          + "Host: a\r\n\r\n";

  /** The proxy answers {@code status}, closes, and forwards nothing. */
  static RequestCase refused(String name, String request, Integer... statuses) {
    return new RequestCase(
        name,
        request,
        Set.of(statuses),
        true,
        ConformanceRig.Expect.nothingForwarded(),
        (s, r) -> {});
  }

  /**
   * A body-framing error found after the head went upstream: the proxy answers {@code status} and
   * closes; the backend may have read the head of this one request, never its complete body, and
   * the upstream connection is closed.
   */
  static RequestCase refusedMidBody(String name, String request, Integer... statuses) {
    return new RequestCase(
        name,
        request,
        Set.of(statuses),
        true,
        new ConformanceRig.Expect(0, 1, 0, ConformanceRig.Upstream.CLOSED_IF_USED),
        (s, received) ->
            s.assertThat(received)
                .as("the backend never read a complete request")
                .allSatisfy(r -> assertThat(r.complete()).as(r.toString()).isFalse()));
  }

  /**
   * A valid request: forwarded once, answered 200 on a kept-alive connection, then {@code check}.
   */
  static RequestCase forwarded(
      String name, String request, BiConsumer<SoftAssertions, HostileBackend.Received> check) {
    return new RequestCase(
        name,
        request,
        Set.of(200),
        false,
        ConformanceRig.Expect.forwardedOnce(ConformanceRig.Upstream.REUSED),
        (s, received) -> {
          if (!received.isEmpty()) {
            HostileBackend.Received r = received.get(0);
            s.assertThat(r.complete()).as("forwarded complete: " + r).isTrue();
            check.accept(s, r);
          }
        });
  }

  @Override
  public String toString() {
    return name;
  }

  /**
   * Runs this row against {@code rig} and asserts everything, softly (every violation reported).
   */
  void run(ConformanceRig rig) throws Exception {
    SoftAssertions soft = new SoftAssertions();
    String method =
        request.isEmpty() ? "GET" : request.substring(0, Math.max(0, request.indexOf(' ')));
    RawClient.Result result = rig.send(closes ? request + PIPELINED_AFTER : request, method);
    if (closes) {
      rig.assertProxyError(soft, result, statuses);
      soft.assertThat(result.closed()).as("the proxy closed the connection: " + result).isTrue();
    } else {
      soft.assertThat(result.finals()).as("one answer: " + result).hasSize(1);
      if (!result.finals().isEmpty()) {
        RawClient.Response r = result.first();
        soft.assertThat(r.status()).as("status " + result).isIn(statuses.toArray());
        soft.assertThat(r.complete()).as("response complete " + result).isTrue();
      }
      soft.assertThat(result.closed()).as("connection kept alive: " + result).isFalse();
    }
    rig.verify(soft, expect);
    backendCheck.accept(
        soft, rig.hostile.received().stream().filter(r -> !r.path().equals("/next")).toList());
    soft.assertAll();
  }
}
