package io.miniloadbalancer.edge.admin;

import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.http.ClientTimeouts;
import io.miniloadbalancer.edge.http.Readiness;
import io.netty.channel.ChannelHandler;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The admin room's door, one per proxy: it builds what the control plane shares (the admin auth
 * tables, the pools view, the recent error rates) and a handler per admin connection. The plane
 * reaches the rest of the process only through what it is given here: the configuration, {@link
 * Readiness}, and two suppliers.
 *
 * <p>Pools are added while the proxy starts, before the listener binds; from then on the view is
 * only read.
 */
public final class AdminPlane {

  private final Map<String, ManagedPool> pools = new LinkedHashMap<>();
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
   * A handler for one new admin connection.
   *
   * @param timeouts the connection's request-head and body deadlines
   * @return the connection's last handler
   */
  public ChannelHandler newHandler(ClientTimeouts timeouts) {
    return new AdminHandler(parts, timeouts);
  }
}
