package io.miniloadbalancer.consul;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.kiwiproject.consul.AgentClient;
import org.kiwiproject.consul.NotRegisteredException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A registration's TTL check kept alive: every third of the TTL, on one daemon thread, report what
 * the health supplier says (pass or fail), so one missed beat does not fail the check. Also the
 * door for a service's own reports ({@link #report}).
 */
final class TtlHeartbeats {

  private static final Logger LOG = LoggerFactory.getLogger(ConsulRegistration.class);

  private final AgentClient agent;
  private final String serviceId;
  private final String checkId;
  private final Duration ttl;
  private final BooleanSupplier healthy;
  private final ScheduledExecutorService scheduler;
  private volatile boolean stopped;

  TtlHeartbeats(AgentClient agent, String serviceId, Duration ttl, BooleanSupplier healthy) {
    this.agent = agent;
    this.serviceId = serviceId;
    this.checkId = "service:" + serviceId;
    this.ttl = ttl;
    this.healthy = healthy;
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "consul-ttl-" + serviceId);
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts beating, once the check is registered. */
  void start() {
    long every = Math.max(1, ttl.toMillis() / 3);
    scheduler.scheduleAtFixedRate(this::beat, every, every, TimeUnit.MILLISECONDS);
  }

  /** No more beats from now on (a shutdown has begun); the thread ends at {@link #stop}. */
  void silence() {
    stopped = true;
  }

  /** Stops beating; the check then turns critical after the TTL unless deregistered first. */
  void stop() {
    stopped = true;
    scheduler.shutdownNow();
  }

  private void beat() {
    if (stopped) {
      return;
    }
    try {
      if (healthy.getAsBoolean()) {
        report("pass", "heartbeat");
      } else {
        report("fail", "health supplier says unhealthy");
      }
    } catch (RuntimeException e) {
      // Never let an exception cancel the periodic task; the next beat tries again.
      LOG.warn("consul: TTL heartbeat for {} failed: {}", serviceId, e.toString());
    }
  }

  /** Reports the check {@code pass}, {@code warn} or otherwise failing, with a note. */
  void report(String status, String note) {
    try {
      switch (status) {
        case "pass" -> agent.passCheck(checkId, note);
        case "warn" -> agent.warnCheck(checkId, note);
        default -> agent.failCheck(checkId, note);
      }
    } catch (NotRegisteredException e) {
      throw new IllegalStateException("check " + checkId + " is not registered", e);
    }
  }
}
