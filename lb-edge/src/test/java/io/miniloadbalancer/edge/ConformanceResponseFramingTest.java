package io.miniloadbalancer.edge;

import static io.miniloadbalancer.edge.HostileBackend.awaitClose;
import static io.miniloadbalancer.edge.HostileBackend.fin;
import static io.miniloadbalancer.edge.HostileBackend.pause;
import static io.miniloadbalancer.edge.HostileBackend.rst;
import static io.miniloadbalancer.edge.HostileBackend.write;
import static io.miniloadbalancer.edge.ResponseCase.GET;
import static io.miniloadbalancer.edge.ResponseCase.GET_1_0;
import static io.miniloadbalancer.edge.ResponseCase.HEAD;
import static io.miniloadbalancer.edge.ResponseCase.and;
import static io.miniloadbalancer.edge.ResponseCase.badGatewayOr;
import static io.miniloadbalancer.edge.ResponseCase.cleanFields;
import static io.miniloadbalancer.edge.ResponseCase.relayed;
import static io.miniloadbalancer.edge.ResponseCase.row;
import static io.miniloadbalancer.edge.ResponseCase.status;
import static io.miniloadbalancer.edge.ResponseCase.truncated;

import io.miniloadbalancer.edge.ConformanceRig.Upstream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Responses from a hostile backend: RFC 9112 section 4 (status line), 5 (field syntax), 6.3
 * (message body length), 9.3 (persistence), 9.6 (tear-down), and RFC 9110 6.4.1 / 15.3.5 / 15.4.5
 * (no content on HEAD, 204, 304). Contract: README.md, "Hardening", "Backend side".
 *
 * <p>A malformed response is a 502 (nothing sent yet) or a visibly truncated body (head sent); an
 * upstream connection that misbehaved is closed, never pooled; and in every row the next client, on
 * the same worker and pool, gets a correct answer ({@link ConformanceRig#verify}).
 */
@DisplayName("RFC 9112 4, 5, 6.3, 9 / RFC 9110 6.4.1: responses from a hostile backend")
class ConformanceResponseFramingTest {

  private static final String OK_HEAD = "HTTP/1.1 200 OK\r\n";

  static Stream<ResponseCase> statusLine() {
    return Stream.of(
        ResponseCase.badGateway("4 garbage status line", write("HELLO WORLD\r\n\r\n")),
        ResponseCase.badGateway(
            "4 NUL in the reason phrase",
            write("HTTP/1.1 200 O\u0000K\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "4 0x01 in the reason phrase",
            write("HTTP/1.1 200 O\u0001K\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "4 version HTTP/9.9", write("HTTP/9.9 200 OK\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "4 version HTTX/1.1", write("HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "4 status 2000 (4 digits)", write("HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "4 status 20 (2 digits)", write("HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "4 status abc", write("HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway("4 an empty answer, then FIN", fin()),
        ResponseCase.badGateway("4 an empty answer, then RST", rst()),
        ResponseCase.badGateway("4 status line cut, then FIN", write("HTTP/1.1 20"), fin()),
        ResponseCase.badGateway(
            "4 head cut mid-line, then FIN (issue 14 #4: no invented 200)",
            write(OK_HEAD + "Content-Le"),
            fin()),
        ResponseCase.badGateway(
            "4 head cut after a field, then RST", write(OK_HEAD + "Content-Length: 2\r\n"), rst()));
  }

  static Stream<ResponseCase> fields() {
    return Stream.of(
        ResponseCase.badGateway(
            "5.5 bare CR in a value", write(OK_HEAD + "X-A: a\rb\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "5.5 NUL in a value", write(OK_HEAD + "X-A: a\u0000b\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "5.5 0x01 in a value", write(OK_HEAD + "X-A: a\u0001b\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "5.5 bare LF inside a field line",
            write(OK_HEAD + "X-A: a\nX-B: b\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "5.1 field name with a space",
            write(OK_HEAD + "Bad Name: x\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "5.1 field line without a colon",
            write(OK_HEAD + "NoColon\r\nContent-Length: 2\r\n\r\nok")),
        ResponseCase.badGateway(
            "5 response head larger than any limit (70 KB field)",
            write(OK_HEAD + "X-Big: " + "b".repeat(70_000) + "\r\nContent-Length: 2\r\n\r\nok")),
        // 9112 5.1: a proxy MUST remove such whitespace (or, as the contract says, refuse:
        // 502).
        row(
            "5.1 whitespace before the colon -> 502, or relayed without it",
            GET,
            badGatewayOr(and(relayed(200, "ok"), cleanFields())),
            Upstream.ANY,
            write(OK_HEAD + "X-A : b\r\nContent-Length: 2\r\n\r\nok")),
        // 9112 5.2: a proxy MUST either 502 or replace each obs-fold with SP.
        row(
            "5.2 obs-fold -> 502, or relayed unfolded",
            GET,
            badGatewayOr(and(relayed(200, "ok"), cleanFields())),
            Upstream.ANY,
            write(OK_HEAD + "X-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok")));
  }

  static Stream<ResponseCase> bodyLength() {
    return Stream.of(
        ResponseCase.badGateway(
            "6.3 Content-Length and Transfer-Encoding",
            write(
                OK_HEAD
                    + "Content-Length: 5\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n"
                    + "5\r\n"
                    + "hello\r\n"
                    + "0\r\n\r\n")),
        ResponseCase.badGateway(
            "6.3 Transfer-Encoding and Content-Length",
            write(
                OK_HEAD
                    + "Transfer-Encoding: chunked\r\n"
                    + "Content-Length: 5\r\n\r\n"
                    + "5\r\n"
                    + "hello\r\n"
                    + "0\r\n\r\n")),
        ResponseCase.badGateway(
            "6.3 two different Content-Lengths",
            write(OK_HEAD + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")),
        ResponseCase.badGateway(
            "6.3 Content-Length: abc", write(OK_HEAD + "Content-Length: abc\r\n\r\nhello")),
        ResponseCase.badGateway(
            "6.3 Content-Length: -1", write(OK_HEAD + "Content-Length: -1\r\n\r\nhello")),
        ResponseCase.badGateway(
            "6.3 Transfer-Encoding: gzip (not chunked)",
            write(OK_HEAD + "Transfer-Encoding: gzip\r\n\r\nhello"),
            fin()),
        ResponseCase.badGateway(
            "6.3 Transfer-Encoding: chunked, gzip",
            write(
                OK_HEAD
                    + "Transfer-Encoding: chunked, gzip\r\n\r\n"
                    + "5\r\n"
                    + "hello\r\n"
                    + "0\r\n\r\n")),
        row(
                "7.1 bad chunk size after the head -> truncated, no 0-chunk (issue" + " 14 #4)",
                GET,
                truncated(200),
                Upstream.CLOSED,
                write(
                    OK_HEAD
                        + "Transfer-Encoding: chunked\r\n\r\n"
                        + "5\r\n"
                        + "hello\r\n"
                        + "ZZ\r\n"
                        + "world\r\n"
                        + "0\r\n\r\n"))
            .fault(true),
        row(
                "7.1 chunk data without its CRLF -> truncated",
                GET,
                truncated(200),
                Upstream.CLOSED,
                write(
                    OK_HEAD
                        + "Transfer-Encoding: chunked\r\n\r\n"
                        + "5\r\n"
                        + "helloXX\r\n"
                        + "0\r\n\r\n"))
            .fault(true),
        row(
                "7.1 chunked body cut by FIN -> truncated",
                GET,
                truncated(200),
                Upstream.CLOSED,
                write(OK_HEAD + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"),
                fin())
            .fault(true),
        row(
                "7.1 chunked body cut by RST -> truncated",
                GET,
                truncated(200),
                Upstream.CLOSED,
                write(OK_HEAD + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"),
                pause(50),
                rst())
            .fault(true),
        row(
                "6.3 Content-Length body cut by FIN -> truncated",
                GET,
                truncated(200),
                Upstream.CLOSED,
                write(OK_HEAD + "Content-Length: 10\r\n\r\nhello"),
                fin())
            .fault(true),
        row(
                "6.3 close-delimited body (no length, FIN) is relayed complete",
                GET,
                relayed(200, "hello world"),
                Upstream.CLOSED,
                write(OK_HEAD + "Connection: close\r\n\r\nhello world"),
                fin())
            .fault(false),
        row(
            "6.1 an HTTP/1.0 response with Transfer-Encoding: faulty framing -> 502, or"
                + " relayed and the connection closed",
            GET,
            badGatewayOr(relayed(200, "hello")),
            Upstream.CLOSED,
            write(
                "HTTP/1.0 200 OK\r\n"
                    + "Transfer-Encoding: chunked\r\n"
                    + "Connection: keep-alive\r\n\r\n"
                    + "5\r\n"
                    + "hello\r\n"
                    + "0\r\n\r\n")),
        // The same rule as for requests (MessageRules): removing a framing field as
        // hop-by-hop
        // would leave the client unable to find the body's end, so the response is
        // malformed.
        ResponseCase.badGateway(
            "9110 7.6.1 a response naming Content-Length in Connection -> 502",
            write(
                OK_HEAD
                    + "Connection: Content-Length\r\n"
                    + "Content-Length: 5\r\n\r\n"
                    + "hello")));
  }

  /**
   * The client gets a correct answer in each row; what matters is that the rest never reaches
   * anyone. Whether such a backend counts as failing is not checked here: the contract says it
   * does, the README (later) says only the connection pays.
   */
  static Stream<ResponseCase> extraBytes() {
    String fake = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil";
    return Stream.of(
        row(
            "6.3 bytes after a Content-Length body -> relayed exactly, connection"
                + " dropped (issue 14 #3)",
            GET,
            relayed(200, "hello"),
            Upstream.CLOSED,
            write(OK_HEAD + "Content-Length: 5\r\n\r\nhelloEXTRA-BYTES")),
        row(
            "6.3 a whole second response after the first -> never reaches anyone",
            GET,
            relayed(200, "hello"),
            Upstream.CLOSED,
            write(OK_HEAD + "Content-Length: 5\r\n\r\nhello" + fake)),
        row(
            "7.1 bytes after the 0-chunk -> relayed exactly, connection dropped",
            GET,
            relayed(200, "hello"),
            Upstream.CLOSED,
            write(
                OK_HEAD
                    + "Transfer-Encoding: chunked\r\n\r\n"
                    + "5\r\n"
                    + "hello\r\n"
                    + "0\r\n\r\n"
                    + fake)),
        row(
            "9110 9.3.2 HEAD answered with a body -> no body relayed, connection" + " dropped",
            HEAD,
            relayed(200, ""),
            Upstream.CLOSED,
            write(OK_HEAD + "Content-Length: 5\r\n\r\nhello")),
        row(
            "9110 15.3.5 204 with a body (issue 14 #3) -> 204 without it, connection" + " dropped",
            GET,
            relayed(204, ""),
            Upstream.CLOSED,
            write("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello")),
        row(
            "9110 15.3.5 204 with a chunked body -> 204 without it, connection dropped",
            GET,
            relayed(204, ""),
            Upstream.CLOSED,
            write(
                "HTTP/1.1 204 No Content\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n"
                    + "5\r\n"
                    + "hello\r\n"
                    + "0\r\n\r\n")),
        row(
            "9110 15.4.5 304 with a body -> 304 without it, connection dropped",
            GET,
            relayed(304, ""),
            Upstream.CLOSED,
            write("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello")),
        row(
            "9112 9.3 unsolicited bytes on an idle pooled connection -> it is dropped",
            GET,
            relayed(200, "ok"),
            Upstream.CLOSED,
            write(OK_HEAD + "Content-Length: 2\r\n\r\nok"),
            pause(50),
            write(fake)));
  }

  static Stream<ResponseCase> persistence() {
    return Stream.of(
        row(
                "9.3 a well-framed keep-alive response -> the connection is pooled" + " and reused",
                GET,
                relayed(200, "hello"),
                Upstream.REUSED,
                write(OK_HEAD + "Content-Length: 5\r\n\r\nhello"))
            .fault(false),
        row(
                "9.3 a chunked response with trailers -> relayed complete," + " connection reused",
                GET,
                relayed(200, "hello"),
                Upstream.REUSED,
                write(
                    OK_HEAD
                        + "Transfer-Encoding: chunked\r\n\r\n"
                        + "5\r\n"
                        + "hello\r\n"
                        + "0\r\n"
                        + "X-T: t\r\n\r\n"))
            .fault(false),
        row(
                "9.3 an HTTP/1.0 response without keep-alive -> relayed, connection"
                    + " not reused",
                GET,
                relayed(200, "ok"),
                Upstream.CLOSED,
                write("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"))
            .fault(false),
        row(
                "9.6 Connection: close -> relayed, connection not reused",
                GET,
                relayed(200, "ok"),
                Upstream.CLOSED,
                write(OK_HEAD + "Connection: close\r\nContent-Length: 2\r\n\r\nok"))
            .fault(false),
        row(
                "9110 15.6.5 no head within upstream.responseTimeout -> 504,"
                    + " connection closed",
                GET,
                status(504),
                Upstream.CLOSED,
                awaitClose(5_000))
            .withUpstream("responseTimeout: 500ms")
            .fault(true),
        row(
                "6.1 an HTTP/1.0 client never gets chunked: the chunked answer is"
                    + " sent close-delimited",
                GET_1_0,
                (soft, rig, r) -> {
                  soft.assertThat(r.finals()).as(r.toString()).hasSize(1);
                  if (!r.finals().isEmpty()) {
                    soft.assertThat(r.first().header("Transfer-Encoding"))
                        .as("Transfer-Encoding to 1.0: " + r)
                        .isEmpty();
                    soft.assertThat(r.first().bodyText()).as("body: " + r).isEqualTo("hello world");
                    soft.assertThat(r.first().complete()).as("complete: " + r).isTrue();
                  }
                },
                Upstream.REUSED,
                write(
                    OK_HEAD
                        + "Transfer-Encoding: chunked\r\n\r\n"
                        + "5\r\n"
                        + "hello\r\n"
                        + "6\r\n"
                        + " world\r\n"
                        + "0\r\n\r\n"))
            .fault(false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("statusLine")
  @DisplayName("9112 4: status line -> 502")
  void statusLine(ResponseCase c) throws Exception {
    c.run();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fields")
  @DisplayName("9112 5 / 9110 5.5: header fields -> 502")
  void fields(ResponseCase c) throws Exception {
    c.run();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bodyLength")
  @DisplayName("9112 6.3 / 7.1: body length -> 502 before the head, a visible truncation after")
  void bodyLength(ResponseCase c) throws Exception {
    c.run();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("extraBytes")
  @DisplayName("9112 6.3 / 9110 6.4.1: bytes beyond the framing never reach a client")
  void extraBytes(ResponseCase c) throws Exception {
    c.run();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("persistence")
  @DisplayName("9112 9: persistence, timeouts, HTTP/1.0 clients")
  void persistence(ResponseCase c) throws Exception {
    c.run();
  }
}
