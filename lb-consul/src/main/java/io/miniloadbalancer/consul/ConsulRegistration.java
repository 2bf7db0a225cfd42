package io.miniloadbalancer.consul;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.kiwiproject.consul.AgentClient;
import org.kiwiproject.consul.Consul;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers the running service with the local Consul agent, and takes it out gracefully.
 *
 * <pre>{@code
 * ConsulRegistration reg = ConsulRegistration.builder("api", 8080)
 *     .id("api-" + taskId)
 *     .address("10.0.3.17")
 *     .httpCheck("http://10.0.3.17:8080/healthz", Duration.ofSeconds(10))
 *     .register();
 * ...
 * reg.close(); // maintenance on, wait for peers to drain, deregister
 * }</pre>
 *
 * <p>Every registration carries {@code DeregisterCriticalServiceAfter} (default 1 min, Consul's
 * minimum), so an instance that dies without closing disappears from the catalog on its own. With a
 * TTL check, heartbeats run on a daemon scheduler every third of the TTL, reporting what the health
 * supplier says (pass or fail), so one missed beat does not fail the check.
 *
 * <p>{@link #close()} is the shutdown order peers need: maintenance on first, so every watcher
 * (every {@link ConsulEndpointSource}) marks the instance MAINT and stops sending new requests
 * while in-flight ones finish; then a wait of {@code drainWait}; then deregistration.
 */
public final class ConsulRegistration implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ConsulRegistration.class);

  private final Builder config;
  private final Consul consul;
  private final AgentClient agent;
  private final @Nullable TtlHeartbeats heartbeats;
  private volatile boolean closed;

  private ConsulRegistration(Builder b, Consul consul) {
    this.config = b;
    this.consul = consul;
    this.agent = consul.agentClient();
    this.heartbeats = b.ttl == null ? null : new TtlHeartbeats(agent, b.id, b.ttl, b.healthy);
  }

  /**
   * A builder for registering {@code service} on {@code port}.
   *
   * @param service the Consul service name
   * @param port the port the service listens on
   * @return a builder for registering {@code service} on {@code port}
   * @throws IllegalArgumentException when the name is blank or the port outside 1..65535
   */
  public static Builder builder(String service, int port) {
    return new Builder(service, port);
  }

  /**
   * The service id this registration uses.
   *
   * @return the service id this registration uses
   */
  public String id() {
    return config.id;
  }

  /**
   * The TTL check's id ({@code service:<id>}, Consul's name for a registration's only check).
   *
   * @return the TTL check's id ({@code service:<id>}, Consul's name for a registration's only
   *     check)
   */
  public String checkId() {
    return "service:" + config.id;
  }

  /**
   * Reports the TTL check passing now, with a note; for services that report health themselves.
   *
   * @param note the check output Consul shows, may be empty
   */
  public void pass(String note) {
    ttl("pass", note);
  }

  /**
   * Reports the TTL check warning now, with a note.
   *
   * @param note the check output Consul shows, may be empty
   */
  public void warn(String note) {
    ttl("warn", note);
  }

  /**
   * Reports the TTL check failing now, with a note.
   *
   * @param note the check output Consul shows, may be empty
   */
  public void fail(String note) {
    ttl("fail", note);
  }

  /**
   * Puts the instance in maintenance (on) or takes it out (off), with a reason.
   *
   * @param on true to enter maintenance, false to leave it
   * @param reason shown in Consul while in maintenance
   */
  public void maintenance(boolean on, String reason) {
    agent.toggleMaintenanceMode(config.id, on, reason);
  }

  /**
   * Maintenance on, waits {@code drainWait} so watchers drain it, then deregisters and stops
   * heartbeats. Idempotent; failures are logged, never thrown (the agent's
   * DeregisterCriticalServiceAfter cleans up what this could not).
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (heartbeats != null) {
      heartbeats.silence();
    }
    try {
      DrainThenDeregister.run(
          agent,
          config.id,
          config.drainWait,
          config.deregisterCriticalAfter,
          () -> {
            if (heartbeats != null) {
              heartbeats.stop();
            }
          });
    } finally {
      consul.destroy();
    }
  }

  private void register() {
    agent.register(RegistrationPayload.of(config));
    LOG.info("consul: registered {} ({} port {})", config.id, config.service, config.port);
    if (heartbeats != null) {
      heartbeats.start();
    }
  }

  private void ttl(String status, String note) {
    if (heartbeats == null) {
      throw new IllegalStateException(config.id + " has no TTL check to report on");
    }
    heartbeats.report(status, note);
  }

  /** Settings for a registration. */
  public static final class Builder {

    // Package-private where RegistrationPayload reads them; the rest stay private.
    final String service;
    final int port;
    String id;
    private java.net.URI agent = AgentUrl.LOCAL;
    private @Nullable String aclToken;
    @Nullable String address;
    List<String> tags = List.of();
    Map<String, String> meta = Map.of();
    int passingWeight;
    int warningWeight = 1;
    @Nullable Duration ttl;
    @Nullable String httpUrl;
    @Nullable String tcpAddress;
    Duration interval = Duration.ofSeconds(10);
    Duration timeout = Duration.ofSeconds(2);
    Duration deregisterCriticalAfter = Duration.ofMinutes(1);
    private Duration drainWait = Duration.ofSeconds(5);
    BooleanSupplier healthy = () -> true;

    private Builder(String service, int port) {
      requireNonNull(service, "service");
      if (service.isBlank()) {
        throw new IllegalArgumentException("service must not be blank");
      }
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException("port must be in 1..65535, was " + port);
      }
      this.service = service;
      this.port = port;
      this.id = service + "-" + port;
    }

    /**
     * The agent's HTTP address. Default {@code http://127.0.0.1:8500}, the local agent.
     *
     * @param url the agent's HTTP address
     * @return this builder
     */
    public Builder agent(String url) {
      this.agent = AgentUrl.parse(url);
      return this;
    }

    /**
     * The ACL token. Default: none.
     *
     * @param token the ACL token
     * @return this builder
     */
    public Builder aclToken(String token) {
      this.aclToken = requireNonNull(token, "aclToken");
      return this;
    }

    /**
     * The instance id, unique on this agent. Default {@code <service>-<port>}; set a unique one (a
     * task id) when several instances share an agent.
     *
     * @param id the instance id, unique on this agent
     * @return this builder
     */
    public Builder id(String id) {
      requireNonNull(id, "id");
      if (id.isBlank()) {
        throw new IllegalArgumentException("id must not be blank");
      }
      this.id = id;
      return this;
    }

    /**
     * The address peers connect to. Default: none (the agent's node address applies).
     *
     * @param address the address peers connect to
     * @return this builder
     */
    public Builder address(String address) {
      this.address = requireNonNull(address, "address");
      return this;
    }

    /**
     * Tags.
     *
     * @param tags tags
     * @return this builder
     */
    public Builder tags(String... tags) {
      this.tags = List.of(tags);
      return this;
    }

    /**
     * Service meta, for example {@code zone}.
     *
     * @param meta service meta, for example {@code zone}
     * @return this builder
     */
    public Builder meta(Map<String, String> meta) {
      this.meta = new LinkedHashMap<>(requireNonNull(meta, "meta"));
      return this;
    }

    /**
     * Consul weights: the share while passing and while warning. Default: Consul's (1 and 1).
     *
     * @param passing the weight while checks pass
     * @param warning the weight while a check warns
     * @return this builder
     */
    public Builder weights(int passing, int warning) {
      if (passing < 1 || warning < 0) {
        throw new IllegalArgumentException(
            "weights must be passing >= 1 and warning >= 0, were " + passing + "/" + warning);
      }
      this.passingWeight = passing;
      this.warningWeight = warning;
      return this;
    }

    /**
     * An HTTP check the agent runs every {@code interval} (timeout 2 s unless {@link #checkTimeout}
     * says otherwise).
     *
     * @param url the URL the agent GETs
     * @param interval how often the agent checks
     * @return this builder
     */
    public Builder httpCheck(String url, Duration interval) {
      this.httpUrl = requireNonNull(url, "url");
      this.interval = requireNonNull(interval, "interval");
      this.ttl = null;
      this.tcpAddress = null;
      return this;
    }

    /**
     * A TCP check the agent runs every {@code interval} against {@code host:port}.
     *
     * @param hostPort the {@code host:port} the agent connects to
     * @param interval how often the agent checks
     * @return this builder
     */
    public Builder tcpCheck(String hostPort, Duration interval) {
      this.tcpAddress = requireNonNull(hostPort, "hostPort");
      this.interval = requireNonNull(interval, "interval");
      this.ttl = null;
      this.httpUrl = null;
      return this;
    }

    /**
     * A TTL check kept alive by heartbeats every {@code ttl/3}, reporting {@code healthy}: pass
     * when it says true, fail otherwise. The check starts passing when {@code healthy} says so at
     * registration (a TTL check otherwise starts critical).
     *
     * @param ttl how long a report stays valid
     * @param healthy asked at every heartbeat: pass when it says true, fail otherwise
     * @return this builder
     */
    public Builder ttlCheck(Duration ttl, BooleanSupplier healthy) {
      requireNonNull(ttl, "ttl");
      if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("ttl must be at least 1 s, was " + ttl);
      }
      this.ttl = ttl;
      this.healthy = requireNonNull(healthy, "healthy");
      this.httpUrl = null;
      this.tcpAddress = null;
      return this;
    }

    /**
     * The HTTP/TCP check's timeout. Default 2 s.
     *
     * @param timeout the HTTP/TCP check's timeout
     * @return this builder
     */
    public Builder checkTimeout(Duration timeout) {
      this.timeout = requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * {@code DeregisterCriticalServiceAfter}. Default 1 min (Consul's minimum): a crashed instance
     * leaves the catalog on its own.
     *
     * @param after {@code DeregisterCriticalServiceAfter}
     * @return this builder
     */
    public Builder deregisterCriticalAfter(Duration after) {
      this.deregisterCriticalAfter = requireNonNull(after, "deregisterCriticalAfter");
      return this;
    }

    /**
     * How long {@link ConsulRegistration#close()} keeps the instance in maintenance before it
     * deregisters. Default 5 s: watchers see the change within about a second; the rest lets
     * in-flight requests finish. Keep it under the platform's stop timeout.
     *
     * @param wait how long {@link ConsulRegistration#close()} keeps the instance in maintenance
     *     before it deregisters
     * @return this builder
     */
    public Builder drainWait(Duration wait) {
      requireNonNull(wait, "drainWait");
      if (wait.isNegative()) {
        throw new IllegalArgumentException("drainWait must not be negative, was " + wait);
      }
      this.drainWait = wait;
      return this;
    }

    /**
     * Registers now and starts TTL heartbeats, if any.
     *
     * @return the live registration; close it to deregister
     * @throws IllegalStateException when no check was chosen
     * @throws org.kiwiproject.consul.ConsulException when the agent refuses or cannot be reached
     */
    public ConsulRegistration register() {
      if (ttl == null && httpUrl == null && tcpAddress == null) {
        throw new IllegalStateException(
            "choose a check: httpCheck, tcpCheck or ttlCheck (a registration without"
                + " one is never removed when the instance dies)");
      }
      // Every call is to the local agent: bounded, so a hung agent cannot eat a shutdown's
      // budget
      // (maintenance + drainWait + deregistration must fit in the orchestrator's stop
      // timeout).
      Consul.Builder client =
          Consul.builder()
              .withUrl(agent.toString())
              .withPing(false)
              .withConnectTimeoutMillis(1_000)
              .withReadTimeoutMillis(2_000)
              .withWriteTimeoutMillis(2_000);
      if (aclToken != null) {
        client.withAclToken(aclToken);
      }
      ConsulRegistration r = new ConsulRegistration(this, client.build());
      try {
        r.register();
      } catch (RuntimeException e) {
        r.closed = true;
        if (r.heartbeats != null) {
          r.heartbeats.stop();
        }
        r.consul.destroy();
        throw e;
      }
      return r;
    }
  }
}
