package io.miniloadbalancer.edge;

import io.miniloadbalancer.consul.ConsulRegistration;
import io.miniloadbalancer.edge.config.EdgeConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's own registration in Consul ({@code consul.register}), made once the listeners are
 * bound. The agent checks {@code /readyz} on the advertised address and proxy port, so the
 * registration turns critical by itself while the proxy drains. An agent that cannot be reached at
 * start does not stop the proxy (the ALB still routes to it): registration is retried in the
 * background with capped backoff, and the admin plane says where it stands.
 *
 * <p>{@link #close()} is the first step of shutdown: maintenance (every watcher stops sending), a
 * wait of {@code drainWait} while the proxy still serves, then deregistration.
 */
final class SelfRegistration implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SelfRegistration.class);
  private static final long MAX_RETRY_SECONDS = 30;

  private final ConsulRegistration.Builder builder;
  private final String id;
  private final ScheduledExecutorService retries;
  private volatile @Nullable ConsulRegistration registration;
  private volatile String status = "not registered yet";
  private volatile boolean closed;

  private SelfRegistration(ConsulRegistration.Builder builder, String id) {
    this.builder = builder;
    this.id = id;
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "consul-self-registration");
              t.setDaemon(true);
              return t;
            });
    // On close, a retry that is only scheduled is dropped; one that is running finishes.
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.retries = executor;
  }

  /** Registers the proxy listening on {@code proxyPort}, or starts retrying in the background. */
  static SelfRegistration start(EdgeConfig.Consul consul, EnvironmentInfo env, int proxyPort) {
    EdgeConfig.Register r = consul.register();
    String address = r.address() != null ? r.address() : env.taskIp();
    String checkHost = address != null ? address : "127.0.0.1";
    String id =
        r.id() != null
            ? r.id()
            : r.service() + "-" + (address != null ? address : hostname()) + "-" + proxyPort;
    ConsulRegistration.Builder b =
        ConsulRegistration.builder(r.service(), proxyPort)
            .agent(consul.agent())
            .id(id)
            .httpCheck(
                "http://" + hostForUrl(checkHost) + ":" + proxyPort + "/readyz", r.checkInterval())
            .deregisterCriticalAfter(r.deregisterCriticalAfter())
            .drainWait(r.drainWait());
    if (address != null) {
      b.address(address);
    }
    if (!r.tags().isEmpty()) {
      b.tags(r.tags().toArray(String[]::new));
    }
    if (env.availabilityZone() != null) {
      // Peers running lb-consul read Meta.zone for zone-aware routing.
      b.meta(Map.of("zone", env.availabilityZone()));
    }
    if (consul.aclToken() != null) {
      b.aclToken(consul.aclToken());
    }
    SelfRegistration self = new SelfRegistration(b, id);
    self.attempt(1);
    return self;
  }

  private void attempt(long nextDelaySeconds) {
    if (closed) {
      return;
    }
    try {
      ConsulRegistration reg = builder.register();
      synchronized (this) {
        if (closed) {
          reg.close();
          return;
        }
        registration = reg;
      }
      status = "registered as " + id;
      LOG.info("consul: registered the proxy as {}", id);
    } catch (RuntimeException e) {
      status = "not registered: " + e.getMessage() + "; retrying in " + nextDelaySeconds + " s";
      LOG.warn(
          "consul: could not register the proxy as {} (retrying in {} s): {}",
          id,
          nextDelaySeconds,
          e.toString());
      retries.schedule(
          () -> attempt(Math.min(MAX_RETRY_SECONDS, nextDelaySeconds * 2)),
          nextDelaySeconds,
          TimeUnit.SECONDS);
    }
  }

  /** Where the registration stands, for the admin plane. */
  String status() {
    return status;
  }

  /** Maintenance, {@code drainWait}, deregistration (see {@link ConsulRegistration#close()}). */
  @Override
  public void close() {
    ConsulRegistration reg;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      reg = registration;
    }
    // Not shutdownNow(): an attempt in progress must not be interrupted half-way; it sees
    // `closed`
    // and closes what it registered itself.
    retries.shutdown();
    try {
      retries.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (reg != null) {
      status = "deregistering";
      reg.close();
      status = "deregistered";
    }
  }

  private static String hostForUrl(String host) {
    return host.contains(":") ? "[" + host + "]" : host;
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown-host";
    }
  }
}
