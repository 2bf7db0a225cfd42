package io.miniloadbalancer.edge.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

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
  private @Nullable ChannelHandlerContext context;

  /**
   * When the current request's response head is due (System.nanoTime), 0 when none is awaited. One
   * timer per connection checks it, re-armed lazily: a request costs a field write, not a timer.
   */
  private long responseDeadline;

  private @Nullable ScheduledFuture<?> timer;
  private long timerAt;

  UpstreamHandler(ProtocolLog protocolLog) {
    this.protocolLog = protocolLog;
  }

  /** The handler of an upstream connection made by {@link UpstreamConnections}. */
  static UpstreamHandler of(Channel ch) {
    return (UpstreamHandler) ch.pipeline().get("exchange");
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    context = ctx;
  }

  /**
   * The exchange on this connection waits for a response head until {@code deadline}; past it the
   * exchange hears {@link ResponseRelay#onResponseTimeout}.
   */
  void expectResponseBy(long deadline) {
    responseDeadline = deadline == 0 ? 1 : deadline;
    ChannelHandlerContext ctx = context;
    if (ctx == null) {
      return;
    }
    ScheduledFuture<?> t = timer;
    if (t != null) {
      if (deadline - timerAt >= 0) {
        return; // the pending check comes first and re-arms for this deadline
      }
      t.cancel(false);
    }
    timerAt = deadline;
    timer =
        ctx.executor()
            .schedule(this::checkDeadline, deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
  }

  /** The response head came, or the attempt ended: nothing is awaited any more. */
  void responseNoLongerExpected() {
    responseDeadline = 0;
  }

  private void checkDeadline() {
    timer = null;
    ChannelHandlerContext ctx = context;
    long deadline = responseDeadline;
    if (deadline == 0 || ctx == null || !ctx.channel().isActive()) {
      return;
    }
    long left = deadline - System.nanoTime();
    if (left > 0) {
      timerAt = deadline;
      timer = ctx.executor().schedule(this::checkDeadline, left, TimeUnit.NANOSECONDS);
      return;
    }
    responseDeadline = 0;
    ProxyExchange ex = ctx.channel().attr(EXCHANGE).get();
    if (ex != null) {
      ex.relay.onResponseTimeout(ctx.channel());
    }
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
