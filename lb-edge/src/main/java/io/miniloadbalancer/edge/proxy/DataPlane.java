package io.miniloadbalancer.edge.proxy;

import io.micrometer.core.instrument.MeterRegistry;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.RetryExecutor;
import io.miniloadbalancer.edge.config.AddressRanges;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.http.ClientTimeouts;
import io.miniloadbalancer.edge.http.CopyOnWriteMap;
import io.miniloadbalancer.edge.http.Readiness;
import io.netty.channel.ChannelHandler;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The proxy room's door, one per proxy: it builds what the data path shares ({@link ProxyParts}:
 * the pool lookup, the upstream connection source, the protocol-error log, the per-client cap, the
 * count of exchanges in flight) and a handler per client connection. The data path reaches the rest
 * of the process only through {@link Readiness}.
 *
 * <p>Pools are added while the proxy starts, before the listener binds; a config reload adds,
 * replaces and removes them later. The lookup is a copy-on-write map: every event loop reads it
 * without a lock, and an exchange keeps the pool it was routed to until it ends.
 */
public final class DataPlane implements AutoCloseable {

  private final Map<String, PoolRuntime> pools = new CopyOnWriteMap<>();
  private final MeterRegistry registry;
  private final List<String> stickyKeys;
  private final ProxyParts parts;
  private final EdgeMeters meters;

  /**
   * The data plane for {@code config}.
   *
   * @param config the proxy's configuration (server, upstream and routes are read)
   * @param transport the transport upstream connections use
   * @param registry where the {@code edge.*} meters ({@link EdgeMeters}) and affinity decisions are
   *     counted
   * @param readiness the process's state: a draining proxy closes connections after answers
   */
  public DataPlane(
      EdgeConfig config, Transport transport, MeterRegistry registry, Readiness readiness) {
    EdgeConfig.Server s = config.server();
    this.registry = registry;
    this.stickyKeys = config.sticky().keys();
    this.meters = new EdgeMeters(registry);
    ProtocolLog protocolLog = new ProtocolLog(meters);
    UpstreamConnections upstream =
        new UpstreamConnections(
            transport, config.upstream(), s.workers(), s.maxHeaderBytes(), protocolLog);
    this.parts =
        new ProxyParts(
            new Router(pools, config.routes()),
            upstream,
            protocolLog,
            meters,
            new AccessLog(config.accessLog().enabled()),
            new ClientConnectionCap(s.maxConnectionsPerClient()),
            AddressRanges.parse(s.trustedProxies(), "server.trustedProxies"),
            readiness,
            s.maxBodyBytes(),
            config.upstream().responseTimeout(),
            new DefaultChannelGroup(GlobalEventExecutor.INSTANCE),
            new AtomicInteger());
    meters.bindConnections(parts.clients()::size, upstream::open);
  }

  /**
   * Adds a pool the data path routes to, or replaces the pool of that name (a config reload: new
   * requests go to the new balancer, exchanges under way finish on the old one). A replaced pool
   * with the same affinity cookie settings keeps its session table.
   *
   * @param name the pool's name, as in {@code /proxy/<name>/}
   * @param balancer the pool's balancer
   * @param retries the pool's retry policy and budget
   * @param hashKey where the request's hash key comes from, or null for none
   * @param sticky the pool's affinity cookie, or null for none
   */
  public void addPool(
      String name,
      LoadBalancer balancer,
      RetryExecutor retries,
      @Nullable String hashKey,
      EdgeConfig.@Nullable Sticky sticky) {
    addPool(name, balancer, retries, hashKey, sticky, parts.responseTimeout());
  }

  /**
   * Adds a pool the data path routes to with its own request timeout, or replaces the pool of that
   * name (see above).
   *
   * @param name the pool's name, as in {@code /proxy/<name>/}
   * @param balancer the pool's balancer
   * @param retries the pool's retry policy and budget
   * @param hashKey where the request's hash key comes from, or null for none
   * @param sticky the pool's affinity cookie, or null for none
   * @param requestTimeout time from sending a request until its response head (the pool's {@code
   *     requestTimeout}, else {@code upstream.responseTimeout})
   */
  public void addPool(
      String name,
      LoadBalancer balancer,
      RetryExecutor retries,
      @Nullable String hashKey,
      EdgeConfig.@Nullable Sticky sticky,
      Duration requestTimeout) {
    PoolRuntime old = pools.get(name);
    StickySessions sessions =
        sticky == null
            ? null
            : old != null && old.sticky() != null && Objects.equals(old.sticky().config(), sticky)
                ? old.sticky()
                : new StickySessions(name, sticky, registry, stickyKeys, Clock.systemUTC());
    pools.put(
        name,
        new PoolRuntime(
            name,
            balancer,
            retries,
            hashKey,
            sessions,
            meters.pool(name),
            requestTimeout.toNanos()));
  }

  /**
   * Stops routing to a pool (a config reload removed it); its exchanges under way finish.
   *
   * @param name the pool's name
   */
  public void removePool(String name) {
    pools.remove(name);
  }

  /**
   * Replaces the prefix routes (a config reload), after the pools they name were added.
   *
   * @param routes the new routes
   */
  public void routes(List<EdgeConfig.Route> routes) {
    parts.router().routes(routes);
  }

  /**
   * Closes the connection pools of an endpoint that left its pool.
   *
   * @param endpoint the endpoint, by its address
   */
  public void forget(Endpoint endpoint) {
    parts.upstream().forget(endpoint);
  }

  /**
   * A handler for one new client connection of the proxy listener.
   *
   * @param timeouts the connection's request-head and body deadlines
   * @return the connection's last handler
   */
  public ChannelHandler newHandler(ClientTimeouts timeouts) {
    return new ProxyHandler(parts, timeouts);
  }

  /**
   * Exchanges in flight now (a drain waits for them).
   *
   * @return the number of exchanges begun and not yet ended
   */
  public int inFlight() {
    return parts.inFlight().get();
  }

  /** Closes every client connection, then every upstream connection (bounded waits). */
  @Override
  public void close() {
    parts.clients().close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    parts.upstream().close();
  }
}
