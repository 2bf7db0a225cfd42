package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.miniloadbalancer.edge.config.ConfigFiles;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * server.maxConnectionsPerClient: the connection over the cap is closed unanswered; others serve.
 */
class ClientConnectionCapTest {

  private DemoBackends backends;
  private EdgeProxy edge;

  @AfterEach
  void stop() {
    if (edge != null) {
      edge.close();
    }
    if (backends != null) {
      backends.close();
    }
  }

  @Test
  void theConnectionOverTheCapIsClosedAndTheSlotFreesOnClose() throws Exception {
    backends = new DemoBackends(1);
    String yaml =
        backends
            .config(0, 0)
            .replace("    healthCheckPath: /healthz\n", "")
            .replace("server:\n", "server:\n  maxConnectionsPerClient: 2\n");
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "cap.yaml", Map.of()), EnvironmentInfo.none());

    try (Socket one = open();
        Socket two = open()) {
      assertThat(get(one)).startsWith("HTTP/1.1 200");
      assertThat(get(two)).startsWith("HTTP/1.1 200");
      try (Socket three = open()) {
        three.setSoTimeout(2_000);
        three.getOutputStream().write(request());
        assertThat(readOrReset(three)).as("closed without an answer (FIN or RST)").isEqualTo(-1);
      }
      // The two admitted connections still serve.
      assertThat(get(one)).startsWith("HTTP/1.1 200");
    }
    // Both closed: the address may connect again (the proxy notices the closes asynchronously).
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () -> {
              try (Socket again = open()) {
                assertThat(get(again)).startsWith("HTTP/1.1 200");
              }
            });
  }

  private static int readOrReset(Socket s) throws IOException {
    try {
      return s.getInputStream().read();
    } catch (java.net.SocketException reset) {
      return -1;
    }
  }

  private Socket open() throws IOException {
    return new Socket(InetAddress.getLoopbackAddress(), edge.proxyPort());
  }

  private static byte[] request() {
    return "GET /proxy/demo/hello HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  }

  /** One keep-alive GET; returns the response head (the body is read by its Content-Length). */
  private static String get(Socket s) throws IOException {
    s.setSoTimeout(3_000);
    s.getOutputStream().write(request());
    InputStream in = s.getInputStream();
    StringBuilder head = new StringBuilder();
    try {
      while (!head.toString().endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          return head.toString();
        }
        head.append((char) b);
      }
    } catch (SocketTimeoutException e) {
      return head.toString();
    }
    String lower = head.toString().toLowerCase();
    int i = lower.indexOf("content-length:");
    if (i >= 0) {
      int n = Integer.parseInt(lower.substring(i + 15, lower.indexOf("\r\n", i)).trim());
      in.readNBytes(n);
    }
    return head.toString();
  }
}
