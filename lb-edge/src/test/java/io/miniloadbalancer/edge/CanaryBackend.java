package io.miniloadbalancer.edge;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A well-behaved backend (the JDK's own HTTP server, a different parser from {@link
 * HostileBackend}'s) that logs every request it serves: a canary for requests that should never
 * have left the proxy, such as one pipelined behind a request the proxy refused.
 */
final class CanaryBackend implements AutoCloseable {

  private final HttpServer server;
  private final ExecutorService executor;
  private final List<String> seen = new CopyOnWriteArrayList<>();

  CanaryBackend() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "canary-backend");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext(
        "/",
        ex -> {
          long bytes = 0;
          try (InputStream in = ex.getRequestBody()) {
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) > 0; ) {
              bytes += n;
            }
          }
          seen.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + bytes + "B");
          byte[] body = "canary-ok".getBytes(StandardCharsets.US_ASCII);
          ex.sendResponseHeaders(200, body.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** Every request served, as {@code METHOD uri <n>B}. */
  List<String> seen() {
    return List.copyOf(seen);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
