package io.miniloadbalancer.edge;

import static io.miniloadbalancer.edge.HostileBackend.echo;
import static io.miniloadbalancer.edge.HostileBackend.pause;
import static io.miniloadbalancer.edge.HostileBackend.rst;
import static io.miniloadbalancer.edge.HostileBackend.write;
import static io.miniloadbalancer.edge.ResponseCase.GET;
import static io.miniloadbalancer.edge.ResponseCase.GET_1_0;
import static io.miniloadbalancer.edge.ResponseCase.row;
import static org.awaitility.Awaitility.await;

import io.miniloadbalancer.edge.ConformanceRig.Upstream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Interim responses and protocol upgrades: RFC 9110 section 15.2 (1xx: forwarded to HTTP/1.1
 * clients, never to HTTP/1.0 ones; the final response follows), 7.8 (Upgrade: a 101 nobody asked
 * for is a protocol error), RFC 6455 4 (the WebSocket opening handshake, then a byte tunnel), and
 * RFC 9113 3.1 (h2c upgrades are not offered by this proxy). Contract: README.md, "Hardening".
 */
@DisplayName("RFC 9110 15.2, 7.8 / RFC 6455 4: interim responses and upgrades")
class ConformanceInterimAndUpgradeTest {

  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  private static final String WS_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

  /** The statuses of the 1xx responses, then the final response's status and body. */
  static ResponseCase.ClientCheck interimThen(List<Integer> interim, int status, String body) {
    return (soft, rig, r) -> {
      soft.assertThat(
              r.responses().stream()
                  .filter(RawClient.Response::interim)
                  .map(RawClient.Response::status)
                  .toList())
          .as("interim responses relayed: " + r)
          .isEqualTo(interim);
      soft.assertThat(r.finals()).as("one final response: " + r).hasSize(1);
      soft.assertThat(r.leftover()).as("nothing after it: " + r).isEmpty();
      if (!r.finals().isEmpty()) {
        soft.assertThat(r.first().status()).as("final status: " + r).isEqualTo(status);
        soft.assertThat(r.first().bodyText()).as("final body: " + r).isEqualTo(body);
        soft.assertThat(r.first().complete()).as("final response complete: " + r).isTrue();
      }
    };
  }

  static Stream<ResponseCase> interim() {
    return Stream.of(
        row(
                "15.2.1 100 Continue, then 200 -> both, connection reused (issue 14" + " #5)",
                GET,
                interimThen(List.of(100), 200, "hello"),
                Upstream.REUSED,
                write("HTTP/1.1 100 Continue\r\n\r\n"),
                pause(20),
                write(OK))
            .fault(false),
        row(
                "15.2 103 Early Hints with Link, then 200 -> both, connection"
                    + " reused (issue 14 #5)",
                GET,
                ResponseCase.and(
                    interimThen(List.of(103), 200, "hello"),
                    (soft, rig, r) ->
                        soft.assertThat(r.responses().get(0).headers("Link"))
                            .as("103's Link relayed: " + r)
                            .containsExactly("</style.css>; rel=preload;" + " as=style")),
                Upstream.REUSED,
                write(
                    "HTTP/1.1 103 Early Hints\r\n"
                        + "Link: </style.css>; rel=preload; as=style\r\n\r\n"),
                pause(20),
                write(OK))
            .fault(false),
        row(
                "15.2 100, then 103, then 200 in one write -> all three",
                GET,
                interimThen(List.of(100, 103), 200, "hello"),
                Upstream.REUSED,
                write(
                    "HTTP/1.1 100 Continue\r\n\r\n"
                        + "HTTP/1.1 103 Early Hints\r\n"
                        + "Link: </a>; rel=preload\r\n\r\n"
                        + OK))
            .fault(false),
        row(
                "15.2 to an HTTP/1.0 client: only the final response",
                GET_1_0,
                interimThen(List.of(), 200, "hello"),
                Upstream.REUSED,
                write("HTTP/1.1 103 Early Hints\r\n" + "Link: </a>; rel=preload\r\n\r\n"),
                pause(20),
                write(OK))
            .fault(false),
        row(
                "15.2 103, then RST -> a 502 after the 103, or a closed connection;"
                    + " never a hang",
                GET,
                (soft, rig, r) -> {
                  if (r.finals().isEmpty()) {
                    soft.assertThat(r.closed())
                        .as("no final answer, so the connection is" + " closed: " + r)
                        .isTrue();
                  } else {
                    soft.assertThat(r.first().status()).as("final: " + r).isEqualTo(502);
                    rig.assertNoInternals(soft, r.first());
                  }
                },
                Upstream.CLOSED,
                write("HTTP/1.1 103 Early Hints\r\n\r\n"),
                pause(20),
                rst())
            .fault(true),
        row(
                "7.8 an unrequested 101 -> 502, connection closed",
                GET,
                ResponseCase.status(502),
                Upstream.CLOSED,
                write(
                    "HTTP/1.1 101 Switching Protocols\r\n"
                        + "Upgrade: websocket\r\n"
                        + "Connection: Upgrade\r\n\r\n"),
                echo())
            .fault(true),
        row(
                "7.8 a 101 to an h2c upgrade the proxy did not pass on -> 502",
                "GET /proxy/hostile/r HTTP/1.1\r\n"
                    + "Host: a\r\n"
                    + "Connection: Upgrade, HTTP2-Settings\r\n"
                    + "Upgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
                ResponseCase.status(502),
                Upstream.CLOSED,
                write(
                    "HTTP/1.1 101 Switching Protocols\r\n"
                        + "Upgrade: h2c\r\n"
                        + "Connection: Upgrade\r\n\r\n"),
                echo())
            .fault(true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("interim")
  @DisplayName("15.2 / 7.8: 1xx responses")
  void interim(ResponseCase c) throws Exception {
    c.run();
  }

  @Test
  @DisplayName("RFC 9113 3.1: an h2c upgrade is stripped and served as HTTP/1.1")
  void h2cIsServedAsHttp11() throws Exception {
    try (ConformanceRig rig = ConformanceRig.start()) {
      rig.hostile.on("/h2c", write(OK));
      RawClient.Result r =
          rig.send(
              "GET /proxy/hostile/h2c HTTP/1.1\r\n"
                  + "Host: a\r\n"
                  + "Connection: Upgrade, HTTP2-Settings\r\n"
                  + "Upgrade: h2c\r\n"
                  + "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
              "GET");
      SoftAssertions soft = new SoftAssertions();
      interimThen(List.of(), 200, "hello").check(soft, rig, r);
      HostileBackend.Received got = rig.hostile.received().get(0);
      soft.assertThat(got.header("Upgrade")).as("Upgrade forwarded: " + got).isEmpty();
      soft.assertThat(got.header("HTTP2-Settings"))
          .as("HTTP2-Settings forwarded: " + got)
          .isEmpty();
      soft.assertThat(got.header("Connection").orElse(""))
          .as("Connection: " + got)
          .doesNotContainIgnoringCase("upgrade");
      rig.verify(soft, ConformanceRig.Expect.forwardedOnce(Upstream.REUSED));
      soft.assertAll();
    }
  }

  @Test
  @DisplayName("RFC 6455 4: a WebSocket handshake is balanced, then bytes are tunnelled both ways")
  void webSocketEcho() throws Exception {
    try (ConformanceRig rig = ConformanceRig.start()) {
      rig.hostile.on(
          "/ws",
          write(
              "HTTP/1.1 101 Switching Protocols\r\n"
                  + "Upgrade: websocket\r\n"
                  + "Connection: Upgrade\r\n"
                  + "Sec-WebSocket-Accept: "
                  + accept(WS_KEY)
                  + "\r\n\r\n"),
          echo());
      SoftAssertions soft = new SoftAssertions();
      byte[] frame = maskedTextFrame("hello through the tunnel");
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), rig.port())) {
        s.setSoTimeout(3_000);
        OutputStream out = s.getOutputStream();
        out.write(
            ("GET /proxy/hostile/ws HTTP/1.1\r\n"
                    + "Host: a\r\n"
                    + "Upgrade: websocket\r\n"
                    + "Connection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: "
                    + WS_KEY
                    + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = s.getInputStream();
        String head = readHead(in);
        soft.assertThat(head).as("handshake answer").startsWith("HTTP/1.1 101");
        soft.assertThat(head).as("accept key relayed").contains(accept(WS_KEY));
        if (head.startsWith("HTTP/1.1 101")) {
          out.write(frame);
          out.flush();
          soft.assertThat(in.readNBytes(frame.length))
              .as("the frame echoed through the tunnel")
              .isEqualTo(frame);
        }
      }
      HostileBackend.Received got = rig.hostile.received().get(0);
      soft.assertThat(got.header("Upgrade")).as("Upgrade forwarded").hasValue("websocket");
      soft.assertThat(got.header("Connection").orElse(""))
          .as("Connection: upgrade forwarded")
          .containsIgnoringCase("upgrade");
      soft.assertThat(got.header("Sec-WebSocket-Key")).as("key forwarded").hasValue(WS_KEY);
      // The client closed: the tunnel's upstream side closes too and is never pooled.
      await().atMost(Duration.ofSeconds(2)).until(() -> rig.hostile.isClosed(1));
      rig.verify(soft, ConformanceRig.Expect.forwardedOnce(Upstream.CLOSED));
      soft.assertAll();
    }
  }

  @Test
  @DisplayName("RFC 6455 4.1: a backend that refuses the upgrade is relayed as a normal response")
  void webSocketRefused() throws Exception {
    try (ConformanceRig rig = ConformanceRig.start()) {
      rig.hostile.on("/ws", write("HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nno ws!"));
      RawClient.Result r =
          rig.send(
              "GET /proxy/hostile/ws HTTP/1.1\r\n"
                  + "Host: a\r\n"
                  + "Upgrade: websocket\r\n"
                  + "Connection: Upgrade\r\n"
                  + "Sec-WebSocket-Key: "
                  + WS_KEY
                  + "\r\nSec-WebSocket-Version: 13\r\n\r\n",
              "GET");
      SoftAssertions soft = new SoftAssertions();
      interimThen(List.of(), 403, "no ws!").check(soft, rig, r);
      rig.verify(soft, ConformanceRig.Expect.forwardedOnce(Upstream.ANY));
      soft.assertAll();
    }
  }

  private static String accept(String key) throws Exception {
    byte[] sha1 =
        MessageDigest.getInstance("SHA-1")
            .digest((key + WS_GUID).getBytes(StandardCharsets.US_ASCII));
    return Base64.getEncoder().encodeToString(sha1);
  }

  /**
   * A client-to-server text frame (FIN, opcode 1, masked), RFC 6455 5.2; payload under 126 bytes.
   */
  private static byte[] maskedTextFrame(String text) {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    byte[] mask = {0x11, 0x22, 0x33, 0x44};
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.write(0x81);
    f.write(0x80 | payload.length);
    f.write(mask, 0, 4);
    for (int i = 0; i < payload.length; i++) {
      f.write(payload[i] ^ mask[i % 4]);
    }
    return f.toByteArray();
  }

  private static String readHead(InputStream in) throws Exception {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int tail = 0;
    while (tail != 0x0d0a0d0a && head.size() < 16_384) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
      tail = (tail << 8) | b;
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }
}
