package io.miniloadbalancer.edge;

import static io.miniloadbalancer.edge.RequestCase.forwarded;
import static io.miniloadbalancer.edge.RequestCase.refused;

import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The request line and header section from a hostile client: RFC 9112 section 3 (request line,
 * method, request target forms, HTTP version), section 5 (field syntax: names, whitespace before
 * the colon, obs-fold), RFC 9110 section 5.5 (field values), 7.2 (Host), 2.5 (version, 505).
 * Contract: README.md, "Hardening", "Client side".
 */
@DisplayName("RFC 9112 3, 5 / RFC 9110 5.5, 7.2: request line and header fields")
class ConformanceRequestLineAndHeadersTest {

  private static final String H = "Host: a\r\n";
  private static final String GET = "GET /proxy/hostile/h HTTP/1.1\r\n" + H;

  private ConformanceRig rig;

  @AfterEach
  void stop() {
    if (rig != null) {
      rig.close();
    }
  }

  static Stream<RequestCase> requestLine() {
    return Stream.of(
        // Found by the outside probe: routing read the raw path, a normalizing reader
        // another one.
        refused(
            "3986 5.2.4 dot-segment in the target -> 400",
            "GET /proxy/hostile/../x HTTP/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "3986 5.2.4 encoded dot-segment -> 400",
            "GET /proxy/hostile/%2e%2E/x HTTP/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "backslash in the target -> 400",
            "GET /proxy/hostile/a\\b HTTP/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "9110 9.3.8 TRACE -> 405 (it would echo credentials)",
            "TRACE /proxy/hostile/h HTTP/1.1\r\n" + H + "\r\n",
            405),
        refused("9110 2.5 HTTP/9.9 -> 505", "GET /proxy/hostile/h HTTP/9.9\r\n" + H + "\r\n", 505),
        refused("9110 2.5 HTTP/2.0 -> 505", "GET /proxy/hostile/h HTTP/2.0\r\n" + H + "\r\n", 505),
        refused("9110 2.5 HTTP/1.2 -> 505", "GET /proxy/hostile/h HTTP/1.2\r\n" + H + "\r\n", 505),
        refused(
            "9112 2.3 version HTTP/1 -> 400", "GET /proxy/hostile/h HTTP/1\r\n" + H + "\r\n", 400),
        refused(
            "9112 2.3 version HTTX/1.1 -> 400",
            "GET /proxy/hostile/h HTTX/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "9112 2.3 version http/1.1 (case-sensitive) -> 400",
            "GET /proxy/hostile/h http/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "9112 2.3 version HTTP/01.1 -> 400",
            "GET /proxy/hostile/h HTTP/01.1\r\n" + H + "\r\n",
            400),
        refused(
            "9112 3 no version (HTTP/0.9 form) -> 400",
            "GET /proxy/hostile/h\r\n" + H + "\r\n",
            400),
        refused("9112 3 garbage request line -> 400", "GARBAGE\r\n\r\n", 400),
        refused(
            "9112 3 a fourth field on the request line -> 400",
            "GET /proxy/hostile/h HTTP/1.1 extra\r\n" + H + "\r\n",
            400),
        refused(
            "9112 3.1 method not a token -> 400",
            "G@T /proxy/hostile/h HTTP/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "9112 3.2 NUL in the target -> 400",
            "GET /proxy/hostile/a\u0000b HTTP/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "9112 3.2 0x01 in the target -> 400",
            "GET /proxy/hostile/a\u0001b HTTP/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "9112 3.2 DEL in the target -> 400",
            "GET /proxy/hostile/a\u007fb HTTP/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "9112 3.2 HTAB in the target -> 400",
            "GET /proxy/hostile/a\tb HTTP/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "9112 3.2 raw UTF-8 (bytes >= 0x80) in the target -> 400",
            "GET /proxy/hostile/caf\u00c3\u00a9 HTTP/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "9112 3.2.2 absolute-form -> 400",
            "GET http://127.0.0.1:1/proxy/hostile/h HTTP/1.1\r\n" + H + "\r\n",
            400),
        refused(
            "9112 3.2.3 authority-form on GET -> 400",
            "GET a.example:80 HTTP/1.1\r\n" + H + "\r\n",
            400),
        refused("9112 3.2.4 asterisk-form -> 400", "OPTIONS * HTTP/1.1\r\n" + H + "\r\n", 400),
        refused(
            "9110 9.3.6 CONNECT -> 405",
            "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
            405),
        refused(
            "9112 3 request line longer than the limit -> 414",
            "GET /proxy/hostile/" + "a".repeat(20_000) + " HTTP/1.1\r\n" + H + "\r\n",
            414));
  }

  static Stream<RequestCase> fields() {
    return Stream.of(
        refused("9112 5.1 field name with a space -> 400", GET + "Bad Name: x\r\n\r\n", 400),
        refused("9112 5.1 field name with '(' -> 400", GET + "X(y): 1\r\n\r\n", 400),
        refused("9112 5.1 empty field name -> 400", GET + ": empty\r\n\r\n", 400),
        refused("9112 5.1 field line without a colon -> 400", GET + "NoColonHere\r\n\r\n", 400),
        refused(
            "9112 5.1 whitespace before the colon (Host : a) -> 400",
            "GET /proxy/hostile/h HTTP/1.1\r\nHost : a\r\n\r\n",
            400),
        refused("9112 5.1 HTAB before the colon -> 400", GET + "X-A\t: b\r\n\r\n", 400),
        // 9112 5.2: a server MUST reject obs-fold with 400 OR replace it with SP; Netty
        // replaces.
        forwarded(
            "9112 5.2 obs-fold is replaced with SP before forwarding",
            GET + "X-A: one\r\n  folded\r\n\r\n",
            (soft, r) ->
                soft.assertThat(r.headerLines())
                    .as("folded into one line")
                    .anySatisfy(
                        l ->
                            org.assertj.core.api.Assertions.assertThat(l)
                                .isEqualToIgnoringCase("X-A: one folded"))),
        refused("9110 5.5 NUL in a value -> 400", GET + "X-A: a\u0000b\r\n\r\n", 400),
        refused("9110 5.5 bare CR in a value -> 400", GET + "X-A: a\rb\r\n\r\n", 400),
        refused("9110 5.5 bare LF inside a field line -> 400", GET + "X-A: a\nX-B: b\r\n\r\n", 400),
        refused("9110 5.5 0x01 in a value -> 400", GET + "X-A: a\u0001b\r\n\r\n", 400),
        refused("9110 5.5 DEL in a value -> 400", GET + "X-A: a\u007fb\r\n\r\n", 400),
        refused(
            "9112 5 header section larger than server.maxHeaderBytes -> 431",
            GET + "X-Big: " + "a".repeat(20_000) + "\r\n\r\n",
            431));
  }

  static Stream<RequestCase> host() {
    return Stream.of(
        refused(
            "9110 7.2 HTTP/1.1 without Host -> 400",
            "GET /proxy/hostile/h HTTP/1.1\r\nX-A: 1\r\n\r\n",
            400),
        refused("9110 7.2 two Host fields -> 400", GET + H + "\r\n", 400),
        refused("9110 7.2 two Host fields, different -> 400", GET + "Host: b\r\n\r\n", 400),
        refused(
            "9110 7.2 Host with a space -> 400",
            "GET /proxy/hostile/h HTTP/1.1\r\nHost: a b\r\n\r\n",
            400),
        refused(
            "9110 7.2 Host with '/' -> 400",
            "GET /proxy/hostile/h HTTP/1.1\r\nHost: a/b\r\n\r\n",
            400),
        refused(
            "9110 7.2 Host with '@' (userinfo) -> 400",
            "GET /proxy/hostile/h HTTP/1.1\r\nHost: u@a\r\n\r\n",
            400),
        refused(
            "9110 7.2 Host with a port above 65535 -> 400",
            "GET /proxy/hostile/h HTTP/1.1\r\nHost: a:99999\r\n\r\n",
            400),
        refused(
            "9110 7.2 Host with a control byte -> 400",
            "GET /proxy/hostile/h HTTP/1.1\r\nHost: a\u0001b\r\n\r\n",
            400));
  }

  static Stream<RequestCase> valid() {
    return Stream.of(
        forwarded(
            "9110 7.2 HTTP/1.0 without Host is served",
            "GET /proxy/hostile/h HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            (s, r) -> s.assertThat(r.path()).isEqualTo("/h")),
        forwarded(
            "9110 5.5 HTAB inside a value is kept",
            GET + "X-Tab: a\tb\r\n\r\n",
            (s, r) -> s.assertThat(r.headers("X-Tab")).containsExactly("a\tb")),
        forwarded(
            "9110 5.5 obs-text (0xE9) in a value passes byte for byte",
            GET + "X-Latin: caf\u00e9\r\n\r\n",
            (s, r) -> s.assertThat(r.headers("X-Latin")).containsExactly("caf\u00e9")),
        forwarded(
            "9112 3.2 a percent-encoded UTF-8 path is forwarded as sent (not encoded" + " twice)",
            "GET /proxy/hostile/caf%C3%A9?q=%E2%82%AC HTTP/1.1\r\n" + H + "\r\n",
            (s, r) -> s.assertThat(r.target()).isEqualTo("/caf%C3%A9?q=%E2%82%AC")),
        forwarded(
            "9112 5 field names are case-insensitive (hOsT)",
            "GET /proxy/hostile/h HTTP/1.1\r\nhOsT: a\r\n\r\n",
            (s, r) -> s.assertThat(r.path()).isEqualTo("/h")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("requestLine")
  @DisplayName("9112 3: request line, method, target, version")
  void requestLine(RequestCase c) throws Exception {
    run(c);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fields")
  @DisplayName("9112 5 / 9110 5.5: field names and values")
  void fields(RequestCase c) throws Exception {
    run(c);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("host")
  @DisplayName("9110 7.2: Host")
  void host(RequestCase c) throws Exception {
    run(c);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  @DisplayName("valid edge cases are forwarded unchanged")
  void valid(RequestCase c) throws Exception {
    run(c);
  }

  @Test
  @DisplayName("9110 15.5.5 an unknown path gets 404 naming no pool, and nothing is forwarded")
  void unknownPath() throws Exception {
    rig = ConformanceRig.start();
    RawClient.Result r = rig.send("GET /elsewhere HTTP/1.1\r\nHost: a\r\n\r\n", "GET");
    SoftAssertions soft = new SoftAssertions();
    rig.assertProxyError(soft, r, java.util.Set.of(404));
    RawClient.Result p = rig.send("GET /proxy/no-such-pool/x HTTP/1.1\r\nHost: a\r\n\r\n", "GET");
    rig.assertProxyError(soft, p, java.util.Set.of(404));
    rig.verify(soft, ConformanceRig.Expect.nothingForwarded());
    soft.assertAll();
  }

  private void run(RequestCase c) throws Exception {
    rig = ConformanceRig.start();
    c.run(rig);
  }
}
