package io.miniloadbalancer.edge.proxy;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.http.IdleTimeout;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive connection pools to backends: one bounded {@link UpstreamPool} per (event loop,
 * endpoint address), so a proxied exchange runs entirely on its client connection's event loop (no
 * locks, no hand-offs), as Envoy's per-worker pools do. The per-endpoint bound is split across the
 * loops.
 */
final class UpstreamConnections {

  /** Waiting acquires per pool beyond which one fails at once (Netty's pool had the same bound). */
  private static final int MAX_WAITERS = 10_000;

  /** Endpoint instances remembered per loop before the cache starts over. */
  private static final int MAX_CACHED_INSTANCES = 4096;

  private final Bootstrap bootstrap;
  private final EdgeConfig.Upstream config;
  private final int perLoopMax;
  private final int maxHeaderBytes;
  private final ProtocolLog protocolLog;

  /** Each event loop's pools. */
  private final Map<EventLoop, LoopPools> pools = new ConcurrentHashMap<>();

  /** Every upstream connection, idle or in use (WebSocket tunnels included), for close(). */
  private final ChannelGroup all = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

  UpstreamConnections(
      Transport transport,
      EdgeConfig.Upstream config,
      int loops,
      int maxHeaderBytes,
      ProtocolLog protocolLog) {
    this.config = config;
    this.protocolLog = protocolLog;
    this.maxHeaderBytes = maxHeaderBytes;
    this.perLoopMax = Math.max(1, (config.maxConnectionsPerEndpoint() + loops - 1) / loops);
    this.bootstrap =
        new Bootstrap()
            .channel(transport.socketChannel())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    all.add(ch);
                    ch.pipeline()
                        .addLast(
                            "codec",
                            new UpstreamResponseDecoder(
                                Math.max(8192, UpstreamConnections.this.maxHeaderBytes)))
                        .addLast("codec-out", new HttpRequestEncoder())
                        .addLast("idle", new IdleTimeout(config.idleTimeout()))
                        .addLast("exchange", new UpstreamHandler(protocolLog));
                  }
                });
  }

  /** The pool for {@code endpoint} on {@code loop}; called on {@code loop}. */
  UpstreamPool pool(EventLoop loop, Endpoint endpoint) {
    LoopPools lp = pools.get(loop);
    if (lp == null) {
      lp = pools.computeIfAbsent(loop, l -> new LoopPools());
    }
    UpstreamPool p = lp.byInstance.get(endpoint);
    if (p != null && !p.isClosed()) {
      return p;
    }
    String authority = endpoint.authority();
    p =
        lp.byAuthority.computeIfAbsent(
            authority,
            a ->
                new UpstreamPool(
                    loop,
                    bootstrap
                        .clone(loop)
                        .remoteAddress(
                            InetSocketAddress.createUnresolved(endpoint.host(), endpoint.port())),
                    a,
                    perLoopMax,
                    MAX_WAITERS,
                    config.connectTimeout().toNanos()));
    if (lp.byInstance.size() >= MAX_CACHED_INSTANCES) {
      lp.byInstance.clear(); // endpoints re-made by weight changes: never more than a bounded few
    }
    lp.byInstance.put(endpoint, p);
    return p;
  }

  /**
   * One loop's pools: by endpoint address (read by any thread: forget and close), and a cache by
   * endpoint instance that only the loop reads. The balancer hands out the same Endpoint objects
   * request after request, so the common lookup hashes nothing (an Endpoint's own hash covers its
   * metadata, and its authority is a new string per call).
   */
  private static final class LoopPools {
    final Map<String, UpstreamPool> byAuthority = new ConcurrentHashMap<>();
    final Map<Endpoint, UpstreamPool> byInstance = new IdentityHashMap<>();
  }

  /** Open upstream connections now (idle, in use, tunnels): a gauge. */
  int open() {
    return all.size();
  }

  /** The response decoder of an upstream connection made here. */
  static UpstreamResponseDecoder decoder(Channel ch) {
    return (UpstreamResponseDecoder) ch.pipeline().get("codec");
  }

  /** Closes every pool of an endpoint that left (its connections go with it). */
  void forget(Endpoint endpoint) {
    String authority = endpoint.authority();
    for (LoopPools lp : pools.values()) {
      UpstreamPool p = lp.byAuthority.remove(authority);
      if (p != null) {
        p.close();
      }
    }
  }

  /**
   * Closes every upstream connection and waits (bounded) until they are closed, while the event
   * loops still run (a channel whose loop has already shut down never closes).
   */
  void close() {
    for (LoopPools lp : pools.values()) {
      lp.byAuthority.values().forEach(UpstreamPool::close);
    }
    all.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    pools.clear();
  }
}
