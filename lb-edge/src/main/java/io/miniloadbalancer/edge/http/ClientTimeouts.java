package io.miniloadbalancer.edge.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The request-head and request-body deadlines of one client connection (the slowloris defence),
 * placed before the HTTP decoder so it sees the first raw byte of every head.
 *
 * <p>One timer per connection at most, re-armed lazily: when it fires it compares the phase's start
 * (or last progress) with the clock and either expires the phase or sleeps until the phase's own
 * deadline. A connection that sends heads quickly costs one timer per timeout period, not one per
 * request. Expiry is handed to the listener's handler as an {@link Expired} event; it answers 408
 * (or closes, once a response has begun). The keep-alive idle time between requests stays with
 * {@code server.idleTimeout}.
 */
public final class ClientTimeouts extends ChannelInboundHandlerAdapter {

  /** The phase whose deadline passed. */
  public enum Expired {
    /** The request head was not complete within {@code server.requestHeadTimeout}. */
    HEAD,
    /** The request body was idle past {@code server.bodyIdleTimeout}. */
    BODY
  }

  private enum Phase {
    BETWEEN_REQUESTS,
    HEAD,
    BODY,
    WAITING
  }

  private final long headNanos;
  private final long bodyIdleNanos;
  private @Nullable ChannelHandlerContext ctx;
  private Phase phase = Phase.BETWEEN_REQUESTS;
  private long phaseStart;
  private long lastProgress;
  private @Nullable ScheduledFuture<?> timer;
  private long timerDeadline;

  /**
   * Deadlines for one connection.
   *
   * @param head how long a request head may take from its first byte
   * @param bodyIdle how long a request body may go without a byte
   */
  public ClientTimeouts(java.time.Duration head, java.time.Duration bodyIdle) {
    this.headNanos = head.toNanos();
    this.bodyIdleNanos = bodyIdle.toNanos();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf buf && buf.isReadable()) {
      long now = System.nanoTime();
      if (phase == Phase.BETWEEN_REQUESTS) {
        phase = Phase.HEAD;
        phaseStart = now;
        arm(headNanos);
      }
      lastProgress = now;
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * The decoder produced a request head.
   *
   * @param bodyPending whether a body follows
   */
  public void headComplete(boolean bodyPending) {
    if (bodyPending) {
      phase = Phase.BODY;
      lastProgress = System.nanoTime();
      arm(bodyIdleNanos);
    } else {
      phase = Phase.WAITING;
    }
  }

  /** The request body ended. */
  public void bodyComplete() {
    if (phase == Phase.BODY) {
      phase = Phase.WAITING;
    }
  }

  /** The exchange ended; the connection waits for the next request. */
  public void exchangeDone() {
    phase = Phase.BETWEEN_REQUESTS;
  }

  private void arm(long delayNanos) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    long deadline = System.nanoTime() + delayNanos;
    ScheduledFuture<?> t = timer;
    if (t != null) {
      if (deadline - timerDeadline >= 0) {
        return; // the pending check comes first and re-arms for this phase
      }
      t.cancel(false); // a shorter deadline (body after head) must not wait for a longer one
    }
    timerDeadline = deadline;
    timer = c.executor().schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void check() {
    timer = null;
    ChannelHandlerContext c = ctx;
    if (c == null || !c.channel().isActive()) {
      return;
    }
    long now = System.nanoTime();
    if (phase == Phase.HEAD) {
      long left = phaseStart + headNanos - now;
      if (left <= 0) {
        phase = Phase.WAITING;
        c.fireUserEventTriggered(Expired.HEAD);
      } else {
        arm(left);
      }
    } else if (phase == Phase.BODY) {
      if (!c.channel().config().isAutoRead()) {
        // Reads are paused by the proxy (the backend is slow to take the body): not the
        // client's
        // silence, so the clock restarts.
        lastProgress = now;
      }
      long left = lastProgress + bodyIdleNanos - now;
      if (left <= 0) {
        phase = Phase.WAITING;
        c.fireUserEventTriggered(Expired.BODY);
      } else {
        arm(left);
      }
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    ScheduledFuture<?> t = timer;
    if (t != null) {
      t.cancel(false);
      timer = null;
    }
    ctx.fireChannelInactive();
  }
}
