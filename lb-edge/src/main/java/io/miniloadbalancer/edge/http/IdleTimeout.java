package io.miniloadbalancer.edge.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Closes the door on a silent connection: when nothing was read or written for the idle time, an
 * {@link IdleStateEvent#ALL_IDLE_STATE_EVENT} goes down the pipeline (the next handler decides:
 * close, or answer 408 mid-request), as Netty's {@code IdleStateHandler} with only an all-idle time
 * would send.
 *
 * <p>Why not {@code IdleStateHandler}: to see writes complete it swaps every write's void promise
 * for a real one and adds a listener, two objects and a callback per write on the proxy's hot path.
 * Here a read or a write only stamps the clock; one timer per connection wakes at the earliest
 * possible expiry and re-arms itself for the rest, so a busy connection costs one timer per idle
 * period, not one per message. A write counts when it is issued, not when the socket took it: a
 * peer that stops reading stops the proxy's writes too (back-pressure), so it still goes idle.
 */
public final class IdleTimeout extends ChannelDuplexHandler {

  private final long idleNanos;
  private @Nullable ChannelHandlerContext ctx;

  /** The timer's task, made once per connection rather than once per (re-)arming. */
  private final Runnable check = this::check;

  private long lastActivity;
  private @Nullable ScheduledFuture<?> timer;

  /**
   * An idle timeout for one connection.
   *
   * @param idle how long the connection may go without a read or a write
   */
  public IdleTimeout(Duration idle) {
    this.idleNanos = idle.toNanos();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
      start(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    start(ctx);
    ctx.fireChannelActive();
  }

  private void start(ChannelHandlerContext ctx) {
    if (timer != null || idleNanos <= 0) {
      return;
    }
    this.ctx = ctx;
    lastActivity = System.nanoTime();
    timer = ctx.executor().schedule(check, idleNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    lastActivity = System.nanoTime();
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    lastActivity = System.nanoTime();
    ctx.write(msg, promise);
  }

  private void check() {
    timer = null;
    ChannelHandlerContext ctx = this.ctx;
    if (ctx == null || !ctx.channel().isOpen()) {
      return;
    }
    long left = lastActivity + idleNanos - System.nanoTime();
    if (left > 0) {
      timer = ctx.executor().schedule(check, left, TimeUnit.NANOSECONDS);
      return;
    }
    // Re-armed for a full period: a handler that keeps the connection (a tunnel, say) gets the
    // event again if it stays silent.
    lastActivity = System.nanoTime();
    timer = ctx.executor().schedule(check, idleNanos, TimeUnit.NANOSECONDS);
    ctx.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    stop();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop();
  }

  private void stop() {
    ScheduledFuture<?> t = timer;
    if (t != null) {
      t.cancel(false);
      timer = null;
    }
  }
}
