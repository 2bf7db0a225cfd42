package io.miniloadbalancer.spring;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** Real HTTP backends on loopback: each answers every path with its id and counts the hits. */
final class Backends implements AutoCloseable {

  record Backend(String id, HttpServer server, AtomicInteger hits) {
    int port() {
      return server.getAddress().getPort();
    }

    String address() {
      return "127.0.0.1:" + port();
    }
  }

  private final List<Backend> backends = new ArrayList<>();

  Backends(int count) throws IOException {
    for (int i = 1; i <= count; i++) {
      String id = "b" + i;
      HttpServer server =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
      AtomicInteger hits = new AtomicInteger();
      server.createContext(
          "/",
          exchange -> {
            hits.incrementAndGet();
            byte[] body = id.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          });
      server.setExecutor(Executors.newFixedThreadPool(4));
      server.start();
      backends.add(new Backend(id, server, hits));
    }
  }

  Backend get(int index) {
    return backends.get(index);
  }

  List<Backend> all() {
    return backends;
  }

  void kill(int index) {
    backends.get(index).server().stop(0);
  }

  @Override
  public void close() {
    for (Backend b : backends) {
      b.server().stop(0);
      ((java.util.concurrent.ExecutorService) b.server().getExecutor()).shutdownNow();
    }
  }
}
