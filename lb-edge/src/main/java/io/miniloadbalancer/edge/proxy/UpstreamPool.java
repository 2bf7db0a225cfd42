package io.miniloadbalancer.edge.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * The keep-alive connections of one event loop to one endpoint. Everything here runs on that loop
 * (the exchanges that use it run there too), so it has no locks, no promises and no listeners on
 * the common path: an idle connection is handed out and taken back by a call, most recently used
 * first (a warm connection, and the idle ones at the back age out on {@code upstream.idleTimeout}).
 *
 * <p>At most {@code max} connections are open (idle, in use or connecting). An acquire beyond that
 * waits, in arrival order, for a released connection, up to the acquire timeout; then it fails with
 * a {@link TimeoutException} (the proxy answers 503, its own limit, not the endpoint's failure). At
 * most {@code maxWaiters} wait; one more fails at once the same way.
 *
 * <p>Replaces Netty's {@code FixedChannelPool}, which on every acquire and release makes a promise,
 * a health-check future and a listener, and keeps its idle connections in a concurrent deque.
 */
final class UpstreamPool {

  /** Who gets the connection. Called on the pool's loop, possibly inside {@link #acquire}. */
  interface Acquirer {
    /**
     * A connection for {@code attempt}: the caller owns it until {@link #release}.
     *
     * @param ch the connection
     * @param attempt the attempt number given to acquire
     */
    void acquired(Channel ch, int attempt);

    /**
     * No connection for {@code attempt}: a connect failure, or a {@link TimeoutException} when
     * every connection stayed busy past the acquire timeout.
     *
     * @param cause why
     * @param attempt the attempt number given to acquire
     */
    void acquireFailed(Throwable cause, int attempt);
  }

  /** The pool a connection belongs to (set when it is made): released there and nowhere else. */
  private static final AttributeKey<UpstreamPool> OWNER = AttributeKey.valueOf("edge.pool");

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final String authority;
  private final int max;
  private final int maxWaiters;
  private final long acquireTimeoutNanos;
  private final ArrayDeque<Channel> idle = new ArrayDeque<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private int open;
  private volatile boolean closed;

  UpstreamPool(
      EventLoop loop,
      Bootstrap bootstrap,
      String authority,
      int max,
      int maxWaiters,
      long acquireTimeoutNanos) {
    this.loop = loop;
    this.bootstrap = bootstrap;
    this.authority = authority;
    this.max = max;
    this.maxWaiters = maxWaiters;
    this.acquireTimeoutNanos = acquireTimeoutNanos;
  }

  /** A connection for {@code who}: an idle one now, a new one, or the next one released. */
  void acquire(Acquirer who, int attempt) {
    if (closed) {
      who.acquireFailed(new IllegalStateException("the endpoint left its pool"), attempt);
      return;
    }
    Channel ch;
    while ((ch = idle.pollFirst()) != null) {
      if (ch.isActive()) {
        who.acquired(ch, attempt);
        return;
      }
      // Closed while idle; its close listener has not run yet and will not find it here.
    }
    if (open < max) {
      connect(who, attempt);
      return;
    }
    if (waiters.size() >= maxWaiters) {
      who.acquireFailed(
          new TimeoutException("too many requests waiting for a connection"), attempt);
      return;
    }
    Waiter w = new Waiter(who, attempt);
    waiters.addLast(w);
    w.timer = loop.schedule(w, acquireTimeoutNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Takes {@code ch} back: to the next waiter or the idle list when {@code reusable} (and still
   * open), else closes it.
   */
  void release(Channel ch, boolean reusable) {
    if (!reusable || closed || !ch.isActive()) {
      ch.close(); // the close listener counts it and serves a waiter with a new connection
      return;
    }
    Waiter w = waiters.pollFirst();
    if (w != null) {
      w.cancelTimer();
      w.who.acquired(ch, w.attempt);
      return;
    }
    idle.addFirst(ch);
  }

  /** Returns {@code ch} to the pool that made it (see {@link #release}); closes a stray one. */
  static void giveBack(Channel ch, boolean reusable) {
    UpstreamPool owner = ch.attr(OWNER).get();
    if (owner != null) {
      owner.release(ch, reusable);
    } else {
      ch.close();
    }
  }

  private void connect(Acquirer who, int attempt) {
    open++;
    ChannelFuture f = bootstrap.connect();
    Channel ch = f.channel();
    ch.attr(OWNER).set(this);
    ch.closeFuture().addListener(done -> onClosed(ch));
    f.addListener(
        done -> {
          if (done.isSuccess()) {
            who.acquired(ch, attempt);
          } else {
            who.acquireFailed(done.cause(), attempt);
          }
        });
  }

  /** A connection closed (idle, in use, or never connected): one fewer, a waiter may connect. */
  private void onClosed(Channel ch) {
    open--;
    idle.remove(ch);
    if (!closed && open < max) {
      Waiter w = waiters.pollFirst();
      if (w != null) {
        w.cancelTimer();
        connect(w.who, w.attempt);
      }
    }
  }

  /** Closes the idle connections; those in use close when released. Any thread. */
  void close() {
    closed = true;
    if (loop.inEventLoop()) {
      closeNow();
    } else if (!loop.isShuttingDown()) {
      loop.execute(this::closeNow);
    }
  }

  private void closeNow() {
    Channel ch;
    while ((ch = idle.pollFirst()) != null) {
      ch.close();
    }
    Waiter w;
    while ((w = waiters.pollFirst()) != null) {
      w.cancelTimer();
      w.who.acquireFailed(new IllegalStateException("the endpoint left its pool"), w.attempt);
    }
  }

  /** The endpoint's {@code host:port}: the upstream request's Host (made once, not per request). */
  String authority() {
    return authority;
  }

  /** Whether the endpoint left (or the proxy is closing): the pool hands out nothing more. */
  boolean isClosed() {
    return closed;
  }

  /** One acquire waiting for a connection; it runs as its own timeout. */
  private final class Waiter implements Runnable {
    final Acquirer who;
    final int attempt;
    @Nullable ScheduledFuture<?> timer;

    Waiter(Acquirer who, int attempt) {
      this.who = who;
      this.attempt = attempt;
    }

    @Override
    public void run() {
      if (waiters.remove(this)) {
        who.acquireFailed(
            new TimeoutException("no free connection within the acquire timeout"), attempt);
      }
    }

    void cancelTimer() {
      if (timer != null) {
        timer.cancel(false);
      }
    }
  }
}
