package io.miniloadbalancer.consul;

import java.time.Duration;
import org.kiwiproject.consul.model.agent.ImmutableRegCheck;
import org.kiwiproject.consul.model.agent.ImmutableRegistration;
import org.kiwiproject.consul.model.agent.Registration;
import org.kiwiproject.consul.model.catalog.ImmutableServiceWeights;

/**
 * What a {@link ConsulRegistration} sends to the agent: the service, its one check and {@code
 * DeregisterCriticalServiceAfter} (so an instance that dies without closing leaves the catalog on
 * its own). Pure: built from the settings, no I/O.
 */
final class RegistrationPayload {

  private RegistrationPayload() {}

  static Registration of(ConsulRegistration.Builder config) {
    ImmutableRegistration.Builder reg =
        ImmutableRegistration.builder()
            .id(config.id)
            .name(config.service)
            .port(config.port)
            .tags(config.tags)
            .meta(config.meta)
            .check(check(config));
    if (config.address != null) {
      reg.address(config.address);
    }
    if (config.passingWeight > 0) {
      reg.serviceWeights(
          ImmutableServiceWeights.builder()
              .passing(config.passingWeight)
              .warning(config.warningWeight)
              .build());
    }
    return reg.build();
  }

  private static Registration.RegCheck check(ConsulRegistration.Builder config) {
    ImmutableRegCheck.Builder check =
        ImmutableRegCheck.builder()
            .deregisterCriticalServiceAfter(seconds(config.deregisterCriticalAfter));
    if (config.ttl != null) {
      // A TTL check otherwise starts critical: start where the supplier says.
      check.ttl(seconds(config.ttl)).status(config.healthy.getAsBoolean() ? "passing" : "critical");
    } else if (config.httpUrl != null) {
      check
          .http(config.httpUrl)
          .interval(seconds(config.interval))
          .timeout(seconds(config.timeout));
    } else {
      check
          .tcp(config.tcpAddress)
          .interval(seconds(config.interval))
          .timeout(seconds(config.timeout));
    }
    return check.build();
  }

  /** Consul's duration strings, whole seconds and at least 1. */
  private static String seconds(Duration d) {
    return Math.max(1, d.toSeconds()) + "s";
  }
}
