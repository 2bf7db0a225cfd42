package io.miniloadbalancer.edge.proxy;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.ChannelHealthChecker;
import io.netty.channel.pool.FixedChannelPool;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive connection pools to backends: one bounded pool per (event loop, endpoint address), so
 * a proxied exchange runs entirely on its client connection's event loop (no locks, no hand-offs),
 * as Envoy's per-worker pools do. The per-endpoint bound is split across the loops.
 */
final class UpstreamConnections {

  private final Bootstrap bootstrap;
  private final EdgeConfig.Upstream config;
  private final int perLoopMax;
  private final Map<Key, FixedChannelPool> pools = new ConcurrentHashMap<>();

  /** Every upstream connection, idle or in use (WebSocket tunnels included), for close(). */
  private final ChannelGroup all = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

  private record Key(EventLoop loop, String host, int port) {}

  private final ProtocolLog protocolLog;

  UpstreamConnections(
      Transport transport,
      EdgeConfig.Upstream config,
      int loops,
      int maxHeaderBytes,
      ProtocolLog protocolLog) {
    this.config = config;
    this.protocolLog = protocolLog;
    this.perLoopMax = Math.max(1, (config.maxConnectionsPerEndpoint() + loops - 1) / loops);
    this.bootstrap =
        new Bootstrap()
            .channel(transport.socketChannel())
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis());
    this.maxHeaderBytes = maxHeaderBytes;
  }

  private final int maxHeaderBytes;

  /** The pool for {@code endpoint} on {@code loop}. */
  FixedChannelPool pool(EventLoop loop, Endpoint endpoint) {
    return pools.computeIfAbsent(
        new Key(loop, endpoint.host(), endpoint.port()),
        k -> {
          Bootstrap b =
              bootstrap
                  .clone(loop)
                  .remoteAddress(InetSocketAddress.createUnresolved(k.host(), k.port()));
          return new FixedChannelPool(
              b,
              new AbstractChannelPoolHandler() {
                @Override
                public void channelCreated(Channel ch) {
                  all.add(ch);
                  ch.pipeline()
                      .addLast("codec", new UpstreamResponseDecoder(Math.max(8192, maxHeaderBytes)))
                      .addLast("codec-out", new HttpRequestEncoder())
                      .addLast(
                          "idle",
                          new IdleStateHandler(
                              0, 0, config.idleTimeout().toMillis(), TimeUnit.MILLISECONDS))
                      .addLast("exchange", new UpstreamHandler(protocolLog));
                }
              },
              ChannelHealthChecker.ACTIVE,
              FixedChannelPool.AcquireTimeoutAction.FAIL,
              config.connectTimeout().toMillis(),
              perLoopMax,
              10_000,
              true,
              true);
        });
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
  void forget(String host, int port) {
    pools
        .entrySet()
        .removeIf(
            e -> {
              if (e.getKey().host().equals(host) && e.getKey().port() == port) {
                e.getValue().closeAsync();
                return true;
              }
              return false;
            });
  }

  /**
   * Closes every upstream connection and waits (bounded) until they are closed, while the event
   * loops still run. Netty closes a pool's idle channels from its global executor and waits there
   * for each close; a channel whose loop has already shut down never closes, which blocks that
   * shared executor for good (and with it the termination notices of every later event-loop group).
   */
  void close() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    all.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    for (FixedChannelPool p : pools.values()) {
      long left = Math.max(0, deadline - System.nanoTime());
      p.closeAsync().awaitUninterruptibly(left, TimeUnit.NANOSECONDS);
    }
    pools.clear();
  }
}
