package io.miniloadbalancer.examples;

import com.sun.net.httpserver.HttpServer;
import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.Strategies;
import io.miniloadbalancer.okhttp.LoadBalancingInterceptor;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * The OkHttp quickstart from the README, as a program with three local backends: round-robin across
 * them, a failing backend found and avoided (its 500s fail over and eject it), and a strategy
 * switch at runtime.
 *
 * <p>Run: {@code mvn -q install -DskipTests && mvn -q -pl examples exec:java
 * -Dexec.mainClass=io.miniloadbalancer.examples.OkHttpExample}
 */
public final class OkHttpExample {

  private OkHttpExample() {}

  /** Starts the backends, sends traffic, prints what happened. */
  public static void main(String[] args) throws IOException {
    System.setProperty("sun.net.httpserver.nodelay", "true");
    List<HttpServer> servers = new ArrayList<>();
    List<Endpoint> endpoints = new ArrayList<>();
    for (String name : List.of("a", "b", "c")) {
      int status = name.equals("c") ? 500 : 200; // c is broken
      HttpServer server =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
      server.createContext(
          "/",
          exchange -> {
            byte[] body = ("hello from " + name).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          });
      server.start();
      servers.add(server);
      endpoints.add(Endpoint.of(name, "127.0.0.1", server.getAddress().getPort()));
    }

    LoadBalancer orders =
        LoadBalancer.builder()
            .name("orders")
            .endpoints(endpoints)
            .strategy(Strategies.ROUND_ROBIN)
            .minSwitchInterval(Duration.ZERO)
            .outlierDetection(OutlierDetection.defaults())
            .build();
    OkHttpClient client =
        new OkHttpClient.Builder()
            .addInterceptor(LoadBalancingInterceptor.builder().route("orders", orders).build())
            .build();
    try {
      System.out.println(
          "round-robin, c answers 500 (GETs fail over to a or b): " + send(client, 30));
      print(orders.snapshot());

      orders.switchStrategy(Strategies.P2C_EWMA, "example").join();
      System.out.println("after switching to p2c-ewma: " + send(client, 30));
      print(orders.snapshot());
    } finally {
      orders.close();
      servers.forEach(s -> s.stop(0));
      client.dispatcher().executorService().shutdown();
      client.connectionPool().evictAll();
    }
  }

  private static Map<String, Integer> send(OkHttpClient client, int n) throws IOException {
    Map<String, Integer> answers = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      try (Response r =
          client.newCall(new Request.Builder().url("http://orders/items").build()).execute()) {
        answers.merge(r.code() + " " + r.body().string(), 1, Integer::sum);
      }
    }
    return answers;
  }

  private static void print(BalancerSnapshot s) {
    System.out.println("  strategy " + s.strategy());
    for (EndpointSnapshot e : s.endpoints()) {
      System.out.printf(
          "  %s %-8s ok=%d failed=%d breaker=%s%s%n",
          e.id(),
          e.state(),
          e.successes(),
          e.failures(),
          e.breaker(),
          e.lastTransition() == null ? "" : "  (" + e.lastTransition().reason() + ")");
    }
  }
}
