package io.miniloadbalancer.edge.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of every upstream connection: hands what the backend says to the exchange that
 * holds the connection (a channel attribute), or closes the connection when none does: a backend
 * talking on an idle pooled connection cannot be trusted with the next request.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {

  static final AttributeKey<ProxyExchange> EXCHANGE = AttributeKey.valueOf("edge.exchange");

  /** Set once the connection carried a request: a later failure may be a stale keep-alive. */
  static final AttributeKey<Boolean> USED = AttributeKey.valueOf("edge.used");

  private final ProtocolLog protocolLog;

  UpstreamHandler(ProtocolLog protocolLog) {
    this.protocolLog = protocolLog;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ProxyExchange ex = ctx.channel().attr(EXCHANGE).get();
    if (ex == null) {
      // Nobody asked: unsolicited bytes on an idle connection. Closed, never reused.
      ReferenceCountUtil.release(msg);
      if (ctx.channel().isActive()) {
        protocolLog.record(
            ProtocolLog.Side.UPSTREAM,
            "unsolicited",
            "-",
            ctx.channel().remoteAddress(),
            "bytes on an idle pooled connection; connection closed");
      }
      ctx.close();
      return;
    }
    if (msg instanceof HttpResponse response) {
      ex.onResponseHead(ctx.channel(), response);
    }
    if (msg instanceof HttpContent content) {
      ex.onResponseContent(ctx.channel(), content);
    } else if (msg instanceof ByteBuf bytes) {
      ex.onUpstreamBytes(ctx.channel(), bytes); // a WebSocket tunnel
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    ProxyExchange ex = ctx.channel().attr(EXCHANGE).get();
    if (ex != null) {
      ex.onUpstreamWritabilityChanged(ctx.channel());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    ProxyExchange ex = ctx.channel().attr(EXCHANGE).get();
    if (ex != null) {
      ex.onUpstreamClosed(ctx.channel(), "backend closed the connection");
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      ProxyExchange ex = ctx.channel().attr(EXCHANGE).get();
      if (ex != null) {
        ex.onUpstreamClosed(ctx.channel(), "backend idle past upstream.idleTimeout");
      }
      ctx.close();
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ProxyExchange ex = ctx.channel().attr(EXCHANGE).get();
    if (ex != null) {
      ex.onUpstreamClosed(ctx.channel(), "backend connection error: " + cause);
    }
    ctx.close();
  }
}
