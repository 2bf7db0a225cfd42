package io.miniloadbalancer.edge.admin;

import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.http.ClientTimeouts;
import io.miniloadbalancer.edge.http.CopyOnWriteMap;
import io.miniloadbalancer.edge.http.Readiness;
import io.netty.channel.ChannelHandler;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The admin room's door, one per proxy: it builds what the control plane shares (the admin auth
 * tables, the pools view, the recent error rates) and a handler per admin connection. The plane
 * reaches the rest of the process only through what it is given here: the configuration, {@link
 * Readiness}, and two suppliers.
 *
 * <p>Pools are added while the proxy starts, before the listener binds; a config reload adds,
 * replaces and removes them later (a copy-on-write map, read without a lock).
 */
public final class AdminPlane {

  private final Map<String, ManagedPool> pools = new CopyOnWriteMap<>();
  private final AdminParts parts;

  /**
   * The admin plane for {@code config}.
   *
   * @param config the proxy's configuration: the admin section, and the whole (redacted) for {@code
   *     /admin/config}
   * @param readiness the process's state, for {@code /readyz}
   * @param environment what {@code /admin/env} shows
   * @param metrics the Prometheus text {@code /metrics} serves
   * @throws IllegalArgumentException when an {@code admin.allowedHosts} entry is not host[:port]
   */
  public AdminPlane(
      EdgeConfig config,
      Readiness readiness,
      Supplier<Map<String, Object>> environment,
      Supplier<String> metrics) {
    this.parts =
        new AdminParts(
            new AdminAuth(config.admin(), Clock.systemUTC()),
            pools,
            new RecentErrorRates(),
            config,
            environment,
            metrics,
            readiness,
            new AtomicReference<>(),
            new Profiling());
  }

  /**
   * Adds a pool the plane shows and commands.
   *
   * @param name the pool's name, as in {@code /admin/pools/<name>}
   * @param balancer the pool's balancer
   * @param hashKey where the pool's hash key comes from, or null for none
   */
  public void addPool(String name, LoadBalancer balancer, @Nullable String hashKey) {
    pools.put(name, new ManagedPool(name, balancer, hashKey));
  }

  /**
   * Stops showing a pool (a config reload removed it).
   *
   * @param name the pool's name
   */
  public void removePool(String name) {
    pools.remove(name);
  }

  /**
   * Connects {@code GET /admin/config} and {@code POST /admin/config/reload} to the process's
   * configuration; until then the first shows the configuration the plane was built with and the
   * second answers 503.
   *
   * @param control the running configuration and its reload
   */
  public void configControl(ConfigControl control) {
    parts.control().set(control);
  }

  /**
   * A handler for one new admin connection.
   *
   * @param timeouts the connection's request-head and body deadlines
   * @return the connection's last handler
   */
  public ChannelHandler newHandler(ClientTimeouts timeouts) {
    return new AdminHandler(parts, timeouts);
  }
}
