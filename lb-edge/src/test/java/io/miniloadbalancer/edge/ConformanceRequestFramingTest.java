package io.miniloadbalancer.edge;

import static io.miniloadbalancer.edge.RequestCase.forwarded;
import static io.miniloadbalancer.edge.RequestCase.refused;
import static io.miniloadbalancer.edge.RequestCase.refusedMidBody;

import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Request message framing from a hostile client: RFC 9112 section 6 (message body: 6.1
 * Transfer-Encoding, 6.2 Content-Length, 6.3 message body length), section 7.1 (chunked transfer
 * coding), section 11.2 (request smuggling), and RFC 9110 section 7.6.1 (Connection may not remove
 * framing). Contract: README.md, "Hardening", "Client side".
 *
 * <p>Every row also proves that nothing pipelined behind a refused request reaches any backend,
 * that the proxy still serves, and that the next client on the same worker and pool is answered
 * correctly ({@link ConformanceRig#verify}).
 */
@DisplayName("RFC 9112 6, 7.1, 11.2 / RFC 9110 7.6.1: request framing")
class ConformanceRequestFramingTest {

  private static final String POST = "POST /proxy/hostile/framing HTTP/1.1\r\nHost: a\r\n";
  private static final String GET = "GET /proxy/hostile/framing HTTP/1.1\r\nHost: a\r\n";

  private ConformanceRig rig;

  @AfterEach
  void stop() {
    if (rig != null) {
      rig.close();
    }
  }

  static Stream<RequestCase> smuggling() {
    return Stream.of(
        refused(
            "6.3/11.2 Content-Length then Transfer-Encoding (CL.TE) -> 400",
            POST + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX",
            400),
        refused(
            "6.3/11.2 Transfer-Encoding then Content-Length (TE.CL) -> 400",
            POST
                + "Transfer-Encoding: chunked\r\n"
                + "Content-Length: 3\r\n\r\n"
                + "8\r\n"
                + "SMUGGLED\r\n"
                + "0\r\n\r\n",
            400),
        refused(
            "9110 7.6.1 Connection: keep-alive, Content-Length (issue 14 #1) -> 400",
            "POST /proxy/hostile/outer HTTP/1.1\r\n"
                + "Host: a\r\n"
                + "Connection: keep-alive, Content-Length\r\n"
                + "Content-Length: 71\r\n\r\n"
                + "GET /proxy-smuggled-admin HTTP/1.1\r\n"
                + "Host: internal\r\n"
                + "X-Smuggled: yes\r\n\r\n",
            400),
        refused(
            "9110 7.6.1 Connection: transfer-encoding -> 400",
            POST
                + "Connection: transfer-encoding\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n"
                + "5\r\n"
                + "hello\r\n"
                + "0\r\n\r\n",
            400),
        refused(
            "9110 7.6.1 Connection: CONTENT-LENGTH (upper case) on a GET -> 400",
            GET + "Connection: CONTENT-LENGTH\r\nContent-Length: 0\r\n\r\n",
            400),
        refused(
            "9110 7.6.1 Connection: close, HOST -> 400",
            GET + "Connection: close, HOST\r\n\r\n",
            400),
        refused(
            "9110 7.6.1 Connection naming Content-Length in a second Connection line ->" + " 400",
            POST
                + "Connection: keep-alive\r\n"
                + "Connection: content-length\r\n"
                + "Content-Length: 5\r\n\r\n"
                + "hello",
            400));
  }

  /**
   * Where chunked is not the final coding (or is applied twice), RFC 9112 6.3 item 4 says the
   * server MUST answer 400 and close, while the contract lists 501; either refuses and closes, so
   * both pass (the rows' names say so). Where chunked is final but another coding precedes it, the
   * length is known and 9112 6.1 says 501 (not implemented), as the contract does.
   */
  static Stream<RequestCase> transferEncoding() {
    return Stream.of(
        refused(
            "6.1 Transfer-Encoding: gzip, chunked -> 501",
            POST + "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            501),
        refused(
            "6.1 Transfer-Encoding split over two lines: gzip / chunked -> 501",
            POST
                + "Transfer-Encoding: gzip\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n"
                + "5\r\n"
                + "hello\r\n"
                + "0\r\n\r\n",
            501),
        refused(
            "6.3(4) Transfer-Encoding: chunked, gzip (chunked not final) -> 400 (RFC)"
                + " or 501 (contract)",
            POST + "Transfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            400,
            501),
        refused(
            "6.3(4) Transfer-Encoding: identity -> 400 (RFC) or 501 (contract)",
            POST + "Transfer-Encoding: identity\r\n\r\nhello",
            400,
            501),
        refused(
            "6.3(4) Transfer-Encoding: xchunked -> 400 (RFC) or 501 (contract)",
            POST + "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            400,
            501),
        refused(
            "7.1 Transfer-Encoding: chunked, chunked (chunked twice) -> 400 (RFC) or"
                + " 501 (contract)",
            POST + "Transfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            400,
            501),
        refused(
            "6.1 Transfer-Encoding in an HTTP/1.0 request -> 400",
            "POST /proxy/hostile/framing HTTP/1.0\r\n"
                + "Host: a\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n"
                + "5\r\n"
                + "hello\r\n"
                + "0\r\n\r\n",
            400));
  }

  static Stream<RequestCase> contentLength() {
    return Stream.of(
        refused("6.2 Content-Length: abc -> 400", POST + "Content-Length: abc\r\n\r\nhello", 400),
        refused("6.2 Content-Length: -1 -> 400", POST + "Content-Length: -1\r\n\r\nhello", 400),
        refused("6.2 Content-Length: +5 -> 400", POST + "Content-Length: +5\r\n\r\nhello", 400),
        refused("6.2 Content-Length: 0x5 -> 400", POST + "Content-Length: 0x5\r\n\r\nhello", 400),
        refused("6.2 Content-Length: 5 5 -> 400", POST + "Content-Length: 5 5\r\n\r\nhello", 400),
        refused(
            "6.2 Content-Length: 5, 5 (a list) -> 400",
            POST + "Content-Length: 5, 5\r\n\r\nhello",
            400),
        refused(
            "6.2 two Content-Length lines, equal -> 400",
            POST + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
            400),
        refused(
            "6.2 two Content-Length lines, different -> 400",
            POST + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            400),
        // All digits but past any counter: nginx and HAProxy answer 400, a 413 (too large)
        // is as good.
        refused(
            "6.2 Content-Length past 2^64 -> 400 or 413",
            POST + "Content-Length: 18446744073709551617\r\n\r\nhello",
            400,
            413),
        refused(
            "6.2 Content-Length above server.maxBodyBytes -> 413, nothing behind it" + " runs",
            POST + "Content-Length: 209715200\r\n\r\nhello",
            413));
  }

  static Stream<RequestCase> chunked() {
    return Stream.of(
        refusedMidBody(
            "7.1 chunk size ZZ -> 400",
            POST + "Transfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n",
            400),
        refusedMidBody(
            "7.1 chunk size past 2^64 -> 400",
            POST
                + "Transfer-Encoding: chunked\r\n\r\n"
                + "fffffffffffffffff5\r\n"
                + "hello\r\n"
                + "0\r\n\r\n",
            400),
        refusedMidBody(
            "7.1 chunk size -5 -> 400",
            POST + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
            400),
        refusedMidBody(
            "7.1 chunk size with leading space -> 400",
            POST + "Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n",
            400),
        refusedMidBody(
            "7.1 chunk data not followed by CRLF -> 400",
            POST + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
            400),
        refusedMidBody(
            "7.1 second chunk's size bad after a good first chunk -> 400",
            POST
                + "Transfer-Encoding: chunked\r\n\r\n"
                + "5\r\n"
                + "hello\r\n"
                + "Q\r\n"
                + "world\r\n"
                + "0\r\n\r\n",
            400));
  }

  static Stream<RequestCase> closingErrorsWithPipelining() {
    return Stream.of(
        refused(
            "9112 9.6 404 with Connection: close, then pipelined requests -> only the" + " 404",
            "GET /proxy/no-such-pool/x HTTP/1.1\r\n" + "Host: a\r\n" + "Connection: close\r\n\r\n",
            404),
        refused(
            "9112 9.6 400 on a request with an unread body, then pipelined requests ->"
                + " only the 400",
            POST + "Content-Length: 5\r\nBad Name: x\r\n\r\nhello",
            400),
        refused(
            "9110 9.3.6 CONNECT -> 405, then pipelined requests -> only the 405",
            "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n",
            405));
  }

  static Stream<RequestCase> valid() {
    return Stream.of(
        forwarded(
            "6.2 Content-Length with OWS around the value is valid",
            POST + "Content-Length: \t5 \r\n\r\nhello",
            (s, r) -> s.assertThat(r.bodyText()).isEqualTo("hello")),
        forwarded(
            "7.1 chunk sizes with leading zeros are valid",
            POST + "Transfer-Encoding: chunked\r\n\r\n0005\r\nhello\r\n000\r\n\r\n",
            (s, r) -> s.assertThat(r.bodyText()).isEqualTo("hello")),
        forwarded(
            "9110 10.1.1 Expect: 100-continue with the body sent at once",
            POST + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
            (s, r) -> s.assertThat(r.bodyText()).isEqualTo("hello")),
        forwarded(
            "6.2 Content-Length body forwarded intact",
            POST + "Content-Length: 5\r\n\r\nhello",
            (s, r) -> s.assertThat(r.bodyText()).isEqualTo("hello")),
        forwarded(
            "7.1 chunked body forwarded with the proxy's own framing",
            POST
                + "Transfer-Encoding: chunked\r\n\r\n"
                + "5\r\n"
                + "hello\r\n"
                + "6\r\n"
                + " world\r\n"
                + "0\r\n\r\n",
            (s, r) -> s.assertThat(r.bodyText()).isEqualTo("hello world")),
        forwarded(
            "7.1.1 chunk extensions accepted",
            POST
                + "Transfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\n"
                + "hello\r\n"
                + "0\r\n\r\n",
            (s, r) -> s.assertThat(r.bodyText()).isEqualTo("hello")),
        forwarded(
            "7.1.2 request trailers are never forwarded (Host: evil in a trailer)",
            POST
                + "Transfer-Encoding: chunked\r\n\r\n"
                + "5\r\n"
                + "hello\r\n"
                + "0\r\n"
                + "Host: evil\r\n"
                + "X-Trailer: t\r\n\r\n",
            (s, r) -> {
              s.assertThat(r.bodyText()).isEqualTo("hello");
              s.assertThat(r.trailerLines()).as("trailers forwarded").isEmpty();
              s.assertThat(r.headerLines())
                  .as("trailer fields merged into the head")
                  .noneMatch(l -> l.contains("evil") || l.toLowerCase().startsWith("x-trailer"));
            }),
        forwarded(
            "6.3 HTTP/1.0 POST with Content-Length",
            "POST /proxy/hostile/framing HTTP/1.0\r\n"
                + "Host: a\r\n"
                + "Connection: keep-alive\r\n"
                + "Content-Length: 5\r\n\r\n"
                + "hello",
            (s, r) -> s.assertThat(r.bodyText()).isEqualTo("hello")),
        forwarded(
            "6.3 a GET with a Content-Length body",
            GET + "Content-Length: 5\r\n\r\nhello",
            (s, r) -> s.assertThat(r.bodyText()).isEqualTo("hello")),
        forwarded(
            "6.3 a bodyless POST (Content-Length: 0)",
            POST + "Content-Length: 0\r\n\r\n",
            (s, r) -> s.assertThat(r.body()).isEmpty()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("smuggling")
  @DisplayName("11.2 smuggling: conflicting framing and Connection naming a framing header")
  void smuggling(RequestCase c) throws Exception {
    run(c);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transferEncoding")
  @DisplayName("6.1 Transfer-Encoding other than exactly chunked")
  void transferEncoding(RequestCase c) throws Exception {
    run(c);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("contentLength")
  @DisplayName("6.2 Content-Length not 1*DIGIT, repeated, or too large")
  void contentLength(RequestCase c) throws Exception {
    run(c);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("chunked")
  @DisplayName("7.1 malformed chunked bodies")
  void chunked(RequestCase c) throws Exception {
    run(c);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("closingErrorsWithPipelining")
  @DisplayName("9.6 after an answer that closes, nothing pipelined behind it runs")
  void closingErrorsWithPipelining(RequestCase c) throws Exception {
    run(c);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  @DisplayName("6.3 valid framing is forwarded with the proxy's own framing")
  void valid(RequestCase c) throws Exception {
    run(c);
  }

  @Test
  @DisplayName("9.3.2 two pipelined GETs are answered in order, each forwarded once")
  void twoPipelinedGets() throws Exception {
    rig = ConformanceRig.start();
    rig.hostile.on("/one", HostileBackend.ok("first")).on("/two", HostileBackend.ok("second"));
    RawClient.Result r =
        rig.send(
            "GET /proxy/hostile/one HTTP/1.1\r\n"
                + "Host: a\r\n\r\n"
                + "GET /proxy/hostile/two HTTP/1.1\r\n"
                + "Host: a\r\n\r\n",
            "GET",
            "GET");
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(r.finals())
        .as(r.toString())
        .extracting(RawClient.Response::bodyText)
        .containsExactly("first", "second");
    soft.assertThat(r.closed()).as("kept alive").isFalse();
    rig.verify(soft, ConformanceRig.Expect.forwarded(2, ConformanceRig.Upstream.REUSED));
    soft.assertThat(rig.hostile.received())
        .extracting(HostileBackend.Received::path)
        .startsWith("/one", "/two");
    soft.assertAll();
  }

  private void run(RequestCase c) throws Exception {
    rig = ConformanceRig.start();
    c.run(rig);
  }
}
