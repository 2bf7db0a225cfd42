package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.edge.config.ConfigFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A backend that answers an upload before reading its body (legal HTTP: a 413 or a 401 does it),
 * under concurrent uploads from clients that close once answered. The proxy closes such an upstream
 * connection and makes new ones at a high rate while client connections close mid-body; no upload
 * may get the proxy's own 502 for it. Before the fix about 1 upload in 40 did on epoll: a new
 * upstream socket that reused a just-closed client socket's descriptor within one epoll batch was
 * handed that socket's pending read, failed its connect, and the request was not retried.
 */
class EarlyAnswerUploadTest {

  private static final int CLIENTS = 24;
  private static final int UPLOADS_PER_CLIENT = 12;
  private static final int BODY = 256 * 1024;

  private ServerSocket backend;
  private final ExecutorService backendThreads = Executors.newCachedThreadPool();
  private EdgeProxy edge;

  @AfterEach
  void stop() throws IOException {
    if (edge != null) {
      edge.close();
    }
    if (backend != null) {
      backend.close();
    }
    backendThreads.shutdownNow();
  }

  /**
   * Answers 200 as soon as a request head is read, then drains what comes until the peer closes.
   */
  private void startEarlyAnsweringBackend() throws IOException {
    backend = new ServerSocket(0, 256, InetAddress.getLoopbackAddress());
    backendThreads.execute(
        () -> {
          while (!backend.isClosed()) {
            Socket s;
            try {
              s = backend.accept();
            } catch (IOException e) {
              return;
            }
            backendThreads.execute(() -> answerEarly(s));
          }
        });
  }

  private static void answerEarly(Socket s) {
    try (s) {
      s.setSoTimeout(10_000);
      InputStream in = s.getInputStream();
      int matched = 0;
      for (int b; matched < 4 && (b = in.read()) >= 0; ) {
        matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      OutputStream out = s.getOutputStream();
      out.write(
          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nearly"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      byte[] sink = new byte[16 * 1024];
      while (in.read(sink) >= 0) {
        // the rest of the body, discarded (a bounded read: SO_TIMEOUT above)
      }
    } catch (IOException e) {
      // the proxy closed or reset the connection: expected once the answer is relayed
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"epoll", "io_uring"})
  void uploadsAnsweredBeforeTheirBodyEndedAllGetTheBackendsAnswer(String transport)
      throws Exception {
    startEarlyAnsweringBackend();
    String yaml =
        "server: {port: 0, workers: 2, transport: "
            + transport
            + "}\n"
            + "admin: {port: 0}\n"
            + "pools:\n"
            + "  p:\n"
            + "    outlierDetection: false\n"
            + "    endpoints:\n"
            + "      - {id: e1, host: 127.0.0.1, port: "
            + backend.getLocalPort()
            + "}\n";
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", Map.of()), EnvironmentInfo.none());

    Map<String, Integer> statuses = new ConcurrentHashMap<>();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> done = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      done.add(
          clients.submit(
              () -> {
                for (int i = 0; i < UPLOADS_PER_CLIENT; i++) {
                  statuses.merge(upload(edge.proxyPort()), 1, Integer::sum);
                }
                return null;
              }));
    }
    for (Future<?> f : done) {
      f.get(60, TimeUnit.SECONDS);
    }
    clients.shutdownNow();

    assertThat(statuses)
        .as("every upload answered by the backend, none by the proxy's 502")
        .containsExactly(Map.entry("200", CLIENTS * UPLOADS_PER_CLIENT));
  }

  /**
   * One upload on a new connection: the head, then the body until the answer arrives (or all of it
   * is sent), then the connection closes. Returns the status, or what went wrong instead.
   */
  private static String upload(int port) {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write(
          ("POST /proxy/p/upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
                  + BODY
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = new byte[16 * 1024];
      try {
        for (int sent = 0; sent < BODY && in.available() == 0; sent += chunk.length) {
          out.write(chunk);
        }
      } catch (IOException e) {
        // the proxy stopped reading after the early answer: read what it said
      }
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      for (int b; head.size() < 12 && (b = in.read()) >= 0; ) {
        head.write(b);
      }
      String line = head.toString(StandardCharsets.US_ASCII);
      return line.startsWith("HTTP/1.1 ") && line.length() >= 12 ? line.substring(9, 12) : line;
    } catch (IOException e) {
      return e.getClass().getSimpleName();
    }
  }
}
