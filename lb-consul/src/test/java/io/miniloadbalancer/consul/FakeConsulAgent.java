package io.miniloadbalancer.consul;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A FAKE Consul agent, for the faults a real agent will not produce on demand: a missing or
 * backwards index, index 0, 5xx, hangs, garbage JSON, empty answers. Its bodies and headers are
 * shaped like the real 1.8.7 captures ({@link Captures}). Everything a real agent does do on demand
 * is tested against a real agent ({@code ConsulAgentIT}).
 */
final class FakeConsulAgent implements AutoCloseable {

  /** One request as the watcher sent it. */
  record Request(int number, @Nullable String index, @Nullable String waitParam, long atNanos) {}

  /** One scripted answer. {@code index} null means no X-Consul-Index header. */
  record Answer(int status, String body, @Nullable String index, long delayMillis) {

    static Answer ok(String capture, long index) {
      return new Answer(200, Captures.text(capture), Long.toString(index), 0);
    }
  }

  private final HttpServer server;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private volatile Function<Request, Answer> script = r -> Answer.ok("health-all", 48);

  FakeConsulAgent() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "fake-consul");
              t.setDaemon(true);
              return t;
            }));
    server.createContext("/v1/health/service/api", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Replaces the script; it sees every request from now on. */
  void script(Function<Request, Answer> next) {
    script = next;
  }

  List<Request> requests() {
    return List.copyOf(requests);
  }

  private void handle(HttpExchange ex) throws IOException {
    String index = null;
    String wait = null;
    String query = ex.getRequestURI().getRawQuery();
    if (query != null) {
      for (String kv : query.split("&")) {
        int eq = kv.indexOf('=');
        String k = eq < 0 ? kv : kv.substring(0, eq);
        String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
        if (k.equals("index")) {
          index = v;
        } else if (k.equals("wait")) {
          wait = v;
        }
      }
    }
    Request req = new Request(requests.size(), index, wait, System.nanoTime());
    requests.add(req);
    Answer a = script.apply(req);
    try {
      if (a.delayMillis() > 0) {
        // Not a wait for something: the scripted answer delay itself, a deliberate fault
        // (a blocking query held, an agent that hangs past the read timeout).
        Thread.sleep(a.delayMillis());
      }
      byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/json");
      if (a.index() != null) {
        ex.getResponseHeaders().set("X-Consul-Index", a.index());
      }
      ex.getResponseHeaders().set("X-Consul-Knownleader", "true");
      ex.getResponseHeaders().set("X-Consul-Lastcontact", "0");
      ex.sendResponseHeaders(a.status(), body.length == 0 ? -1 : body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // The client gave up (a hang past its read timeout): nothing to answer.
    } finally {
      ex.close();
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
