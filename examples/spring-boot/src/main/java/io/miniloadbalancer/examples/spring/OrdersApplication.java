package io.miniloadbalancer.examples.spring;

import com.sun.net.httpserver.HttpServer;
import io.miniloadbalancer.spring.EdgeBalancerInterceptor;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;

/**
 * A Spring Boot service whose {@code RestClient} calls the pool {@code orders} from
 * application.yml. Run it, then:
 *
 * <pre>
 * curl localhost:8080/hello                      # answered by one of the three backends
 * curl localhost:8080/actuator/loadbalancers     # the pool's snapshot
 * curl localhost:8080/actuator/health            # UP while an endpoint is routable
 * </pre>
 */
@SpringBootApplication
public class OrdersApplication {

  /**
   * Runs the service.
   *
   * @param args Spring Boot arguments
   */
  public static void main(String[] args) {
    SpringApplication.run(OrdersApplication.class, args);
  }

  /** The service's one endpoint: it calls the pool. */
  @RestController
  static class Hello {
    private final RestClient orders;

    Hello(RestClient.Builder builder, EdgeBalancerInterceptor edgeBalancer) {
      // Opt-in per client: this one goes through the pool, the application's others do not.
      this.orders = builder.requestInterceptor(edgeBalancer).baseUrl("http://orders").build();
    }

    @GetMapping("/hello")
    String hello() {
      return orders.get().uri("/hello").retrieve().body(String.class);
    }
  }

  /** Three stand-in backends on 9001..9003, so the example runs on its own. */
  @Bean(destroyMethod = "close")
  @ConditionalOnProperty("demo.backends")
  DemoBackends demoBackends() throws IOException {
    return new DemoBackends(9001, 9002, 9003);
  }

  /** Tiny HTTP servers that answer with their port. */
  static final class DemoBackends implements AutoCloseable {
    private final List<HttpServer> servers = new ArrayList<>();

    DemoBackends(int... ports) throws IOException {
      for (int port : ports) {
        HttpServer server =
            HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        byte[] body = ("hello from backend " + port + "\n").getBytes(StandardCharsets.UTF_8);
        server.createContext(
            "/",
            exchange -> {
              exchange.sendResponseHeaders(200, body.length);
              try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
              }
            });
        server.start();
        servers.add(server);
      }
    }

    @Override
    public void close() {
      servers.forEach(s -> s.stop(0));
    }
  }
}
