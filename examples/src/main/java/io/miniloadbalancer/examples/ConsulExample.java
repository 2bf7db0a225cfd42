package io.miniloadbalancer.examples;

import com.sun.net.httpserver.HttpServer;
import io.miniloadbalancer.consul.ConsulEndpointSource;
import io.miniloadbalancer.consul.ConsulRegistration;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.RequestContext;
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

/**
 * Discovery through a local Consul agent: three local backends register themselves (HTTP checks), a
 * balancer watches the service, one instance goes into maintenance and drains, and shutdown
 * deregisters everything through maintenance first.
 *
 * <p>Run with an agent at {@code http://127.0.0.1:18500} (or pass its URL):
 *
 * <pre>
 * bash lb-consul/scripts/consul-agent.sh start
 * mvn -q install -DskipTests &amp;&amp; mvn -q -pl examples exec:java \
 *     -Dexec.mainClass=io.miniloadbalancer.examples.ConsulExample
 * bash lb-consul/scripts/consul-agent.sh stop
 * </pre>
 */
public final class ConsulExample {

  private ConsulExample() {}

  /** Registers, discovers, routes, drains, deregisters. */
  public static void main(String[] args) throws IOException, InterruptedException {
    String agent = args.length > 0 ? args[0] : "http://127.0.0.1:18500";
    List<HttpServer> servers = new ArrayList<>();
    List<ConsulRegistration> registrations = new ArrayList<>();
    LoadBalancer lb = null;
    try {
      for (String name : List.of("a", "b", "c")) {
        HttpServer server =
            HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext(
            "/",
            exchange -> {
              byte[] body = ("hello from " + name).getBytes(StandardCharsets.UTF_8);
              exchange.sendResponseHeaders(200, body.length);
              try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
              }
            });
        server.start();
        servers.add(server);
        int port = server.getAddress().getPort();
        registrations.add(
            ConsulRegistration.builder("greeter", port)
                .agent(agent)
                .id("greeter-" + name)
                .address("127.0.0.1")
                .httpCheck("http://127.0.0.1:" + port + "/healthz", Duration.ofSeconds(1))
                .drainWait(Duration.ofSeconds(1))
                .register());
      }
      lb =
          LoadBalancer.builder()
              .name("greeter")
              .source(ConsulEndpointSource.builder("greeter").agent(agent).build())
              .build();
      // HTTP checks start critical until their first pass (within the 1 s interval).
      Thread.sleep(2_500);
      System.out.println("discovered: " + states(lb));
      System.out.println("100 requests: " + send(lb, 100));

      registrations.get(0).maintenance(true, "example: deploy");
      Thread.sleep(1_000);
      System.out.println("greeter-a in maintenance: " + states(lb));
      System.out.println("100 requests: " + send(lb, 100));
      System.out.println("source: " + lb.sourceSnapshot());
    } finally {
      registrations.forEach(ConsulRegistration::close);
      if (lb != null) {
        lb.close();
      }
      servers.forEach(s -> s.stop(0));
    }
  }

  private static Map<String, String> states(LoadBalancer lb) {
    Map<String, String> states = new TreeMap<>();
    for (EndpointSnapshot e : lb.snapshot().endpoints()) {
      states.put(e.id(), e.state().name());
    }
    return states;
  }

  private static Map<String, Integer> send(LoadBalancer lb, int n) {
    Map<String, Integer> counts = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      try (Lease lease = lb.acquire(RequestContext.none())) {
        counts.merge(lease.endpoint().id(), 1, Integer::sum);
        lease.success();
      }
    }
    return counts;
  }
}
