package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.miniloadbalancer.edge.config.ConfigFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * No request chooses the upstream host: a real server outside every pool, on loopback, counts what
 * reaches it while requests try every way of naming it.
 */
class NoOpenProxyTest {

  private final List<String> trapped = new CopyOnWriteArrayList<>();
  private HttpServer trap;
  private DemoBackends backends;
  private EdgeProxy edge;

  @BeforeEach
  void start() throws Exception {
    trap = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    trap.createContext(
        "/",
        ex -> {
          trapped.add(ex.getRequestMethod() + " " + ex.getRequestURI());
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    trap.start();
    backends = new DemoBackends(1);
    edge =
        EdgeProxy.start(
            ConfigFiles.parse(backends.config(0, 0), "t.yaml", Map.of()), EnvironmentInfo.none());
  }

  @AfterEach
  void stop() {
    edge.close();
    backends.close();
    trap.stop(0);
  }

  private String raw(String request) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), edge.proxyPort())) {
      s.setSoTimeout(2_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = in.read(buf)) > 0; ) {
          got.write(buf, 0, n);
          if (got.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
            break;
          }
        }
      } catch (SocketTimeoutException e) {
        // answered what it answered
      }
      return got.toString(StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void nothingInARequestReachesAHostOutsideThePools() throws Exception {
    String target = "127.0.0.1:" + trap.getAddress().getPort();
    List<String> attempts =
        List.of(
            "GET http://" + target + "/absolute HTTP/1.1\r\nHost: " + target + "\r\n\r\n",
            "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n",
            "GET /proxy/demo/host-header HTTP/1.1\r\nHost: " + target + "\r\n\r\n",
            "GET /proxy/demo/forwarded HTTP/1.1\r\nHost: a\r\nX-Forwarded-Host: "
                + target
                + "\r\nForwarded: host="
                + target
                + "\r\n\r\n",
            "GET /proxy/" + target + "/pool-named-like-a-host HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /proxy/demo/../../" + target + "/dots HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /proxy/demo//" + target + "/double-slash HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /proxy/demo/x%2F..%2F" + target + " HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET http://a@" + target + "/userinfo HTTP/1.1\r\nHost: a\r\n\r\n");
    for (String attempt : attempts) {
      String answer = raw(attempt);
      assertThat(answer).as(attempt).matches("(?s)HTTP/1\\.1 [2-4]\\d\\d .*");
    }
    assertThat(trapped).as("requests that reached the host outside the pools").isEmpty();
  }
}
