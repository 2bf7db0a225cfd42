package io.miniloadbalancer.edge;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Three local HTTP backends for {@code --demo}: each answers any path with its name, the method and
 * the path (and echoes a request body's size and the cookies it received), {@code /healthz} with
 * 200, {@code /slow...} after 600 ms, and {@code /bytes/<n>} with n streamed bytes.
 */
public final class DemoBackends implements AutoCloseable {

  private final List<HttpServer> servers = new ArrayList<>();
  private final Map<String, Integer> ports = new LinkedHashMap<>();
  private final AtomicInteger active = new AtomicInteger();

  /**
   * Starts {@code count} backends on ephemeral loopback ports.
   *
   * @param count how many backends
   * @throws IOException when a backend cannot bind
   */
  public DemoBackends(int count) throws IOException {
    System.setProperty("sun.net.httpserver.nodelay", "true");
    for (int i = 0; i < count; i++) {
      String name = "demo-" + (char) ('a' + i);
      HttpServer s =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
      s.setExecutor(
          Executors.newFixedThreadPool(
              4,
              r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
              }));
      s.createContext(
          "/",
          ex -> {
            active.incrementAndGet();
            try {
              answer(name, ex);
            } finally {
              active.decrementAndGet();
            }
          });
      s.start();
      servers.add(s);
      ports.put(name, s.getAddress().getPort());
    }
  }

  private static void answer(String name, HttpExchange ex) throws IOException {
    long received = 0;
    try (InputStream in = ex.getRequestBody()) {
      byte[] buf = new byte[65_536];
      for (int n; (n = in.read(buf)) > 0; ) {
        received += n;
      }
    }
    String path = ex.getRequestURI().getPath();
    if (path.matches("/bytes/\\d{1,10}")) {
      streamBytes(ex, Math.min(Long.parseLong(path.substring(7)), MAX_DOWNLOAD));
      return;
    }
    if (path.startsWith("/slow")) {
      // For drain and shutdown demonstrations: a request that takes a while.
      try {
        Thread.sleep(600);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    String cookie = ex.getRequestHeaders().getFirst("Cookie");
    String text =
        name
            + " "
            + ex.getRequestMethod()
            + " "
            + ex.getRequestURI()
            + (received > 0 ? " received " + received + " bytes" : "")
            + (cookie != null ? " cookie: " + cookie : "")
            + "\n";
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    ex.sendResponseHeaders(200, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  /**
   * Requests the backends are handling right now.
   *
   * @return requests begun and not yet answered
   */
  public int active() {
    return active.get();
  }

  private static final long MAX_DOWNLOAD = 1L << 30;

  /** {@code /bytes/<n>}: n bytes, streamed (chunked), for large-download demonstrations. */
  private static void streamBytes(HttpExchange ex, long n) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
    ex.sendResponseHeaders(200, 0);
    byte[] block = new byte[65_536];
    for (int i = 0; i < block.length; i++) {
      block[i] = (byte) ('a' + i % 26);
    }
    try (OutputStream out = ex.getResponseBody()) {
      for (long left = n; left > 0; left -= block.length) {
        out.write(block, 0, (int) Math.min(block.length, left));
      }
    }
  }

  /**
   * Stops one backend (a crash, as far as the proxy can tell).
   *
   * @param name the backend's name, as in {@link #ports()}
   */
  public void kill(String name) {
    int i = new ArrayList<>(ports.keySet()).indexOf(name);
    servers.get(i).stop(0);
  }

  /**
   * The backends' ports.
   *
   * @return backend name to port
   */
  public Map<String, Integer> ports() {
    return ports;
  }

  /**
   * A config with one static pool {@code demo} of these backends, health-checked.
   *
   * @param proxyPort the proxy listener's port (0: ephemeral)
   * @param adminPort the admin listener's port (0: ephemeral)
   * @return the YAML text
   */
  public String config(int proxyPort, int adminPort) {
    StringBuilder y = new StringBuilder();
    y.append("server:\n  port: ").append(proxyPort).append("\n");
    y.append("admin:\n  port: ").append(adminPort).append("\n");
    y.append(
        "pools:\n"
            + "  demo:\n"
            + "    strategy: round-robin\n"
            + "    healthCheckPath: /healthz\n"
            + "    endpoints:\n");
    ports.forEach(
        (name, port) ->
            y.append("      - {id: ")
                .append(name)
                .append(", host: 127.0.0.1, port: ")
                .append(port)
                .append("}\n"));
    return y.toString();
  }

  @Override
  public void close() {
    servers.forEach(s -> s.stop(0));
  }
}
