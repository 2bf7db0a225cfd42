package io.miniloadbalancer.spring;

import io.miniloadbalancer.consul.ConsulEndpointSource;
import io.miniloadbalancer.consul.ConsulRegistration;
import io.miniloadbalancer.core.spi.EndpointSource;
import org.springframework.context.SmartLifecycle;

/**
 * Everything that touches lb-consul, in one class that is loaded only when lb-consul is on the
 * class path.
 */
final class ConsulSupport {

  private ConsulSupport() {}

  static EndpointSource source(
      EdgeBalancerProperties.ConsulService service, EdgeBalancerProperties.Consul consul) {
    ConsulEndpointSource.Builder b =
        ConsulEndpointSource.builder(service.service()).agent(consul.agent());
    if (!service.tags().isEmpty()) {
      b.tags(service.tags().toArray(String[]::new));
    }
    if (service.datacenter() != null) {
      b.datacenter(service.datacenter());
    }
    if (consul.aclToken() != null) {
      b.aclToken(consul.aclToken());
    }
    return b.build();
  }

  /**
   * This application's Consul registration as a lifecycle: registered once the web server listens
   * (its phase starts after the server's), closed first on shutdown (before the server's graceful
   * shutdown), and {@link ConsulRegistration#close()} puts the instance in maintenance before it
   * waits and deregisters, so peers stop picking it while in-flight requests finish.
   */
  static final class RegistrationLifecycle implements SmartLifecycle {
    private final EdgeBalancerProperties.Consul consul;
    private final String service;
    private final java.util.function.IntSupplier port;
    private volatile ConsulRegistration registration;

    RegistrationLifecycle(
        EdgeBalancerProperties.Consul consul, String service, java.util.function.IntSupplier port) {
      this.consul = consul;
      this.service = service;
      this.port = port;
    }

    @Override
    public void start() {
      EdgeBalancerProperties.Registration r = consul.registration();
      int p = port.getAsInt();
      ConsulRegistration.Builder b =
          ConsulRegistration.builder(service, p)
              .agent(consul.agent())
              .httpCheck("http://127.0.0.1:" + p + r.healthPath(), r.checkInterval())
              .drainWait(r.drainWait());
      if (!r.tags().isEmpty()) {
        b.tags(r.tags().toArray(String[]::new));
      }
      if (consul.aclToken() != null) {
        b.aclToken(consul.aclToken());
      }
      registration = b.register();
    }

    @Override
    public void stop() {
      ConsulRegistration current = registration;
      registration = null;
      if (current != null) {
        current.close();
      }
    }

    @Override
    public boolean isRunning() {
      return registration != null;
    }

    @Override
    public int getPhase() {
      // Above the web server's graceful shutdown (DEFAULT_PHASE - 1024): stopped first, so
      // peers
      // see maintenance while this application still answers; started after the server
      // listens.
      return SmartLifecycle.DEFAULT_PHASE - 512;
    }
  }
}
