package com.example;

import io.miniloadbalancer.consul.ConsulEndpointSource;
import io.miniloadbalancer.consul.ConsulRegistration;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.RequestContext;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

/**
 * Consul discovery with the consumer's classpath: consul-client's HTTP stack (Retrofit, OkHttp,
 * Jackson, Guava) at whatever versions the consumer's BOMs chose. Needs an agent at
 * CONSUL_HTTP_ADDR, else on 127.0.0.1 at CONSUL_HTTP_PORT (default 18500: the one .ci/run starts
 * with lb-consul/scripts/consul-agent.sh, which reads the same variable); without one it says so
 * and checks only that the client can be built.
 */
public final class ConsulCheck {

  public static void run(int backendPort) throws Exception {
    String agent =
        System.getenv().getOrDefault(
            "CONSUL_HTTP_ADDR",
            "http://127.0.0.1:" + System.getenv().getOrDefault("CONSUL_HTTP_PORT", "18500"));
    java.net.URI uri = java.net.URI.create(agent);
    boolean reachable;
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 1_000);
      reachable = true;
    } catch (java.io.IOException e) {
      reachable = false;
    }
    if (!reachable) {
      ConsulEndpointSource.builder("consumer-check").agent(agent).build().close();
      System.out.println("!!! no Consul agent at " + agent + ": lb-consul built, discovery NOT exercised");
      return;
    }
    String service = "consumer-check-" + ProcessHandle.current().pid();
    try (ConsulRegistration registration =
            ConsulRegistration.builder(service, backendPort)
                .agent(agent)
                .address("127.0.0.1")
                .ttlCheck(Duration.ofSeconds(30), () -> true)
                .drainWait(Duration.ZERO) // nobody else routes to it: deregister at once
                .register();
        LoadBalancer lb =
            LoadBalancer.builder().name(service).source(ConsulEndpointSource.builder(service).agent(agent).build()).build()) {
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (lb.snapshot().routableCount() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(100); // a bounded poll for the blocking query's first answer
      }
      ConsumerMain.check(lb.snapshot().routableCount() == 1, "Consul discovery found no routable " + service);
      try (Lease lease = lb.acquire(RequestContext.none())) {
        ConsumerMain.check(lease.endpoint().port() == backendPort, "discovered the wrong endpoint: " + lease.endpoint());
        lease.success();
      }
      System.out.println("Consul: registered, discovered and routed to " + service + " via " + agent);
    }
  }
}
