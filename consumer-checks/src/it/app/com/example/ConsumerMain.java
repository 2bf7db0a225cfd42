package com.example;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.RetryExecutor;
import io.miniloadbalancer.core.RetryPolicy;
import io.miniloadbalancer.core.RetryResult;
import io.miniloadbalancer.core.Strategies;
import io.miniloadbalancer.metrics.LoadBalancerMetrics;
import io.miniloadbalancer.okhttp.LoadBalancingInterceptor;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * What a service team would write first: a balancer over real backends on loopback, the README's
 * retry snippet, the OkHttp interceptor, the Micrometer binder and (where lb-consul is a
 * dependency) Consul discovery. Exits non-zero when any check fails.
 */
public final class ConsumerMain {

  public static void main(String[] args) throws Exception {
    System.out.println("OkHttp on the classpath: " + okhttp3.OkHttp.VERSION
        + " from " + OkHttpClient.class.getProtectionDomain().getCodeSource().getLocation());
    List<HttpServer> servers = new ArrayList<>();
    try {
      List<Endpoint> endpoints = new ArrayList<>();
      for (String name : List.of("a", "b", "sick")) {
        HttpServer server = backend(name, name.equals("sick") ? 503 : 200);
        servers.add(server);
        endpoints.add(Endpoint.of(name, "127.0.0.1", server.getAddress().getPort()));
      }
      LoadBalancer balancer =
          LoadBalancer.builder()
              .name("orders")
              .endpoints(endpoints)
              .strategy(Strategies.P2C_EWMA)
              // The always-503 endpoint is ejected after 5 failures in a row: without it, how many of
              // its answers a retry can hide depends on the retry budget and timing (a flaky check).
              .outlierDetection(io.miniloadbalancer.core.OutlierDetection.defaults())
              .build();
      try (balancer) {
        retrySnippet(balancer);
        okHttp(balancer);
        metrics(balancer);
      }
      consulIfPresent(servers.get(0).getAddress().getPort());
    } finally {
      servers.forEach(s -> s.stop(0));
    }
    System.out.println("consumer check passed");
  }

  static HttpServer backend(String name, int status) throws java.io.IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext("/", exchange -> {
      byte[] body = ("hello from " + name).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    return server;
  }

  /** The README's retry snippet, copied from it (.ci/run checks that the two stay the same). */
  static void retrySnippet(LoadBalancer balancer) throws Exception {
    String method = "GET";
    for (int i = 0; i < 100; i++) {
      // snippet:retry begin
      HttpClient http = HttpClient.newHttpClient();
      RetryExecutor retries = balancer.retries(RetryPolicy.defaults());   // 1 retry, 25-250 ms full jitter
      RetryResult<HttpResponse<String>> result = retries.execute(
          RequestContext.none(), RetryPolicy.isIdempotent(method),
          response -> response.statusCode() >= 500,                  // which answers are failures
          lease -> http.send(                                        // the executor ends every lease
              HttpRequest.newBuilder(URI.create("http://" + lease.endpoint().authority() + "/items")).build(),
              HttpResponse.BodyHandlers.ofString()));
      // snippet:retry end
      check(!result.failed() && result.value().statusCode() == 200, "retried GET failed: " + result.describe());
    }
    check(balancer.snapshot().totalInFlight() == 0,
        "leases leaked by the retry snippet: in flight " + balancer.snapshot().totalInFlight());
    System.out.println("retry snippet: 100 GETs answered 200, in flight 0");
  }

  static void okHttp(LoadBalancer balancer) throws Exception {
    OkHttpClient client = new OkHttpClient.Builder()
        .addInterceptor(LoadBalancingInterceptor.builder().route("orders", balancer).build())
        .build();
    for (int i = 0; i < 100; i++) {
      try (Response r = client.newCall(new Request.Builder().url("http://orders/items?i=" + i).build()).execute()) {
        check(r.code() == 200, "OkHttp call answered " + r.code());
        check(r.body().string().startsWith("hello from "), "unexpected body");
      }
    }
    check(balancer.snapshot().totalInFlight() == 0, "OkHttp calls left leases open");
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
    System.out.println("OkHttp interceptor: 100 GETs answered 200, in flight 0");
  }

  static void metrics(LoadBalancer balancer) {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (LoadBalancerMetrics metrics = LoadBalancerMetrics.builder(balancer).build()) {
      metrics.bindTo(registry);
      long meters = registry.getMeters().stream().filter(m -> m.getId().getName().startsWith("lb.")).count();
      check(meters > 0, "no lb.* meters registered");
      System.out.println("Micrometer " + io.micrometer.core.instrument.MeterRegistry.class.getPackage().getImplementationVersion()
          + ": " + meters + " lb.* meters");
    }
  }

  static void consulIfPresent(int backendPort) throws Exception {
    Class<?> check;
    try {
      check = Class.forName("com.example.ConsulCheck");
    } catch (ClassNotFoundException notAConsulConsumer) {
      System.out.println("lb-consul is not a dependency of this consumer");
      return;
    }
    check.getMethod("run", int.class).invoke(null, backendPort);
  }

  static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalStateException(message);
    }
  }
}
