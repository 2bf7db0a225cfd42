package com.example;

import com.sun.net.httpserver.HttpServer;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.spring.EdgeBalancerInterceptor;
import io.miniloadbalancer.spring.EdgeBalancerPools;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.client.RestClient;

/**
 * A Spring Boot service that uses the installed starter the README's way: a pool from properties,
 * the interceptor bean on a RestClient, calls to http://orders/... spread over three real local
 * backends; exits non-zero when any call fails, a backend gets nothing, or a lease stays open.
 */
@SpringBootApplication
public class SpringConsumerMain {

  public static void main(String[] args) throws Exception {
    ConcurrentHashMap<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    List<HttpServer> backends = new ArrayList<>();
    List<String> props = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String name = "b" + i;
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext(
          "/",
          exchange -> {
            hits.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
            byte[] body = name.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
          });
      server.start();
      backends.add(server);
      props.add("--edge-balancer.pools.orders.endpoints[" + i + "].id=" + name);
      props.add(
          "--edge-balancer.pools.orders.endpoints["
              + i
              + "].address=127.0.0.1:"
              + server.getAddress().getPort());
    }
    props.add("--edge-balancer.pools.orders.strategy=round-robin");
    SpringApplication app = new SpringApplication(SpringConsumerMain.class);
    app.setWebApplicationType(WebApplicationType.NONE);
    int failures = 0;
    try (ConfigurableApplicationContext context = app.run(props.toArray(String[]::new))) {
      RestClient orders =
          RestClient.builder()
              .requestInterceptor(context.getBean(EdgeBalancerInterceptor.class))
              .baseUrl("http://orders")
              .build();
      for (int i = 0; i < 30; i++) {
        String body = orders.get().uri("/api/items/" + i).retrieve().body(String.class);
        if (body == null || !body.startsWith("b")) {
          failures++;
        }
      }
      LoadBalancer pool = context.getBean(EdgeBalancerPools.class).get("orders");
      int inFlight = 0;
      for (int i = 0; i < 3; i++) {
        inFlight += pool.inFlight("b" + i);
      }
      System.out.println("spring consumer: " + hits + ", failures " + failures + ", in flight "
          + inFlight + ", strategy " + pool.strategy());
      if (failures > 0 || hits.size() != 3 || inFlight != 0) {
        throw new IllegalStateException("spring consumer check failed");
      }
    } finally {
      backends.forEach(b -> b.stop(0));
    }
  }
}
