package io.miniloadbalancer.okhttp;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/1.1 server on loopback (the JDK's {@code com.sun.net.httpserver}) for the adapter's
 * tests. Not OkHttp's MockWebServer on purpose: these tests run against OkHttp 4.12 and 5.x alike,
 * and mockwebserver3's API differs between the two, while this server depends on neither.
 */
final class TestBackend implements AutoCloseable {

  static {
    // The server writes a response's head and body separately; without TCP_NODELAY, Nagle's
    // algorithm meets the client's delayed ACK and each exchange stalls about 40 ms on
    // loopback.
    // Read once, when the JDK's server configuration is first loaded.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  /** What the server answers. */
  record Reply(int code, String body, Map<String, String> headers, long headersDelayMillis) {

    static Reply of(int code, String body) {
      return new Reply(code, body, Map.of(), 0);
    }

    Reply header(String name, String value) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.put(name, value);
      return new Reply(code, body, h, headersDelayMillis);
    }

    Reply headersDelay(long millis) {
      return new Reply(code, body, headers, millis);
    }
  }

  /** A request as the server saw it. */
  record Seen(String method, String path, String query, Headers headers) {}

  /** Chooses the reply to a request. */
  interface Handler {
    Reply reply(Seen request);
  }

  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final AtomicInteger requests = new AtomicInteger();

  private TestBackend(Handler handler) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    server.createContext("/", exchange -> serve(exchange, handler));
    server.setExecutor(threads);
    server.start();
  }

  static TestBackend start(Handler handler) throws IOException {
    return new TestBackend(handler);
  }

  private void serve(HttpExchange exchange, Handler handler) throws IOException {
    try (exchange) {
      requests.incrementAndGet();
      try (InputStream in = exchange.getRequestBody()) {
        in.readAllBytes();
      }
      Reply reply =
          handler.reply(
              new Seen(
                  exchange.getRequestMethod(),
                  exchange.getRequestURI().getRawPath(),
                  exchange.getRequestURI().getRawQuery(),
                  exchange.getRequestHeaders()));
      if (reply.headersDelayMillis() > 0) {
        // A slow backend: the server thread waits, the client's timeouts are what is
        // tested.
        TimeUnit.MILLISECONDS.sleep(reply.headersDelayMillis());
      }
      reply.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
      byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(reply.code(), body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    } catch (IOException clientWentAway) {
      // The client cancelled or timed out: nothing left to answer.
    } catch (InterruptedException stopping) {
      Thread.currentThread().interrupt();
    }
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** Requests received so far. */
  int requestCount() {
    return requests.get();
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
