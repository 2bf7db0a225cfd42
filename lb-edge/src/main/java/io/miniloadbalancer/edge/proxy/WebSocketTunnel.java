package io.miniloadbalancer.edge.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

/**
 * A WebSocket upgrade's tunnel: after the backend's 101 both connections leave HTTP and bytes pass
 * as they are, each side's reads paused while the other cannot take more. Its exchange holds the
 * lease until either side closes (so a drain of that endpoint waits for it).
 */
final class WebSocketTunnel {

  private final ChannelHandlerContext client;
  private final Channel upstream;

  WebSocketTunnel(ChannelHandlerContext client, Channel upstream) {
    this.client = client;
    this.upstream = upstream;
  }

  /**
   * After the 101 is written: the client's codec and deadlines go (the idle timeout stays: a silent
   * tunnel is closed after server.idleTimeout); the upstream's codec goes, and any bytes its
   * decoder held (frames sent right after the 101) are handed on: call it once the exchange knows
   * it is a tunnel, since those bytes arrive before this returns.
   */
  void open() {
    client.flush();
    ChannelPipeline cp = client.pipeline();
    for (String name : new String[] {"timeouts", "continue", "codec"}) {
      if (cp.get(name) != null) {
        cp.remove(name);
      }
    }
    ChannelPipeline up = upstream.pipeline();
    if (up.get("codec-out") != null) {
      up.remove("codec-out");
    }
    if (up.get("codec") != null) {
      up.remove("codec"); // hands its buffered bytes on to the UpstreamHandler
    }
  }

  /** RFC 6455 4.1: GET with {@code Upgrade: websocket} and {@code Connection: upgrade}. */
  static boolean isUpgrade(HttpRequest r) {
    return r.method().equals(HttpMethod.GET)
        && r.protocolVersion().minorVersion() == 1
        && r.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
        && r.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
  }

  /** Bytes from the client, to the backend. Takes ownership. */
  void fromClient(ByteBuf bytes) {
    upstream.writeAndFlush(bytes, upstream.voidPromise());
    if (!upstream.isWritable()) {
      client.channel().config().setAutoRead(false);
    }
  }

  /** Bytes from the backend, to the client. Takes ownership. */
  void fromUpstream(ByteBuf bytes) {
    client.writeAndFlush(bytes, client.voidPromise());
    if (!client.channel().isWritable()) {
      upstream.config().setAutoRead(false);
    }
  }
}
