package io.miniloadbalancer.consul;

import java.time.Duration;
import org.kiwiproject.consul.AgentClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A registration's way out, in the order peers need: maintenance on first, so every watcher (every
 * {@link ConsulEndpointSource}) marks the instance MAINT and stops sending new requests while
 * in-flight ones finish; then a wait of {@code drainWait}; then deregistration. Failures are
 * logged, never thrown: the agent's {@code DeregisterCriticalServiceAfter} cleans up what this
 * could not.
 */
final class DrainThenDeregister {

  private static final Logger LOG = LoggerFactory.getLogger(ConsulRegistration.class);

  private DrainThenDeregister() {}

  /**
   * Runs the sequence; {@code beforeDeregister} runs after the drain wait (the heartbeats stop
   * there, so the check does not fail while peers drain).
   */
  static void run(
      AgentClient agent,
      String id,
      Duration drainWait,
      Duration deregisterCriticalAfter,
      Runnable beforeDeregister) {
    try {
      agent.toggleMaintenanceMode(id, true, "shutting down");
      LOG.info("consul: {} in maintenance; deregistering in {} ms", id, drainWait.toMillis());
      if (!drainWait.isZero()) {
        // The drain itself: nothing to poll, peers only need the time.
        Thread.sleep(drainWait.toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.warn("consul: could not put {} in maintenance: {}", id, e.toString());
    }
    beforeDeregister.run();
    try {
      agent.deregister(id);
      LOG.info("consul: deregistered {}", id);
    } catch (RuntimeException e) {
      LOG.warn(
          "consul: could not deregister {} ({}); the agent removes it after {}",
          id,
          e.toString(),
          deregisterCriticalAfter);
    }
  }
}
