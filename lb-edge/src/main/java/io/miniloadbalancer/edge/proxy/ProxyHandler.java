package io.miniloadbalancer.edge.proxy;

import io.miniloadbalancer.edge.http.ClientTimeouts;
import io.miniloadbalancer.edge.http.HealthEndpoints;
import io.miniloadbalancer.edge.http.HttpReplies;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane, one instance per client connection: checks each request against {@link
 * MessageRules}, routes it to a pool through the {@link Router} and runs a {@link ProxyExchange}.
 *
 * <p>Bad input gets a 4xx; when the connection's framing can no longer be trusted it also closes,
 * and from that moment nothing else read from the connection is acted on: a request pipelined
 * behind a refused one never reaches a backend.
 */
final class ProxyHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyHandler.class);

  private final ProxyParts parts;
  private final ClientTimeouts timeouts;
  private @Nullable ProxyExchange current;
  private @Nullable ChannelHandlerContext context;
  private ForwardingHeaders.@Nullable ClientAddress clientAddress;

  /** After an answer to a request whose body is still coming (connection kept): drop the body. */
  private boolean discarding;

  /** An answer that closes the connection is on its way: everything read from now on is dropped. */
  private boolean closing;

  /** Whether this connection was admitted under server.maxConnectionsPerClient (and counted). */
  private boolean counted;

  /**
   * A pipelined request (and what follows it) that arrived while an exchange was in flight, in
   * arrival order; replayed when that exchange ends. Reads stop while anything is held, so this is
   * at most what one socket read decoded into.
   */
  private ArrayDeque<Object> held = NOTHING_HELD;

  /** Shared while nothing is held: an idle connection carries no queue of its own. */
  private static final ArrayDeque<Object> NOTHING_HELD = new ArrayDeque<>(0);

  ProxyHandler(ProxyParts parts, ClientTimeouts timeouts) {
    this.parts = parts;
    this.timeouts = timeouts;
  }

  ProxyParts parts() {
    return parts;
  }

  ClientTimeouts timeouts() {
    return timeouts;
  }

  /** The connection's addresses for the forwarding headers (made once per connection). */
  ForwardingHeaders.ClientAddress clientAddress() {
    ForwardingHeaders.ClientAddress a = clientAddress;
    if (a == null) {
      a = new ForwardingHeaders.ClientAddress(context.channel());
      clientAddress = a;
    }
    return a;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing) {
      ReferenceCountUtil.release(msg);
      return;
    }
    ProxyExchange ex = current;
    if (msg instanceof ByteBuf bytes && ex != null && ex.isTunnel()) {
      ex.onClientBytes(bytes); // a WebSocket tunnel: the HTTP codec is gone, bytes pass as they are
      return;
    }
    // Reads stay on while a response is in flight instead of being paused per request: pausing
    // costs two epoll_ctl system calls per request (about 6% of the proxy's CPU in the wrk
    // benchmark), and clients rarely pipeline. One that does has its next request held here.
    if (!held.isEmpty() || (msg instanceof HttpRequest && current != null && !current.isDone())) {
      if (held.isEmpty()) {
        ctx.channel().config().setAutoRead(false);
        if (held == NOTHING_HELD) {
          held = new ArrayDeque<>(4);
        }
      }
      held.add(msg);
      return;
    }
    dispatch(ctx, msg);
  }

  private void dispatch(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest request) {
      onRequest(ctx, request);
    }
    if (msg instanceof HttpContent content) {
      if (closing) {
        ReferenceCountUtil.release(content);
        return;
      }
      if (content.decoderResult().isFailure()) {
        String why = MessageRules.describe(content.decoderResult().cause());
        ReferenceCountUtil.release(content);
        badBody(ctx, why);
        return;
      }
      boolean last = content instanceof LastHttpContent;
      if (last) {
        timeouts.bodyComplete();
      }
      ProxyExchange ex = current;
      if (ex != null && !ex.isDone()) {
        ex.onClientContent(content);
      } else {
        ReferenceCountUtil.release(content);
        if (last && discarding) {
          discarding = false;
        }
      }
    } else if (!(msg instanceof HttpRequest)) {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onRequest(ChannelHandlerContext ctx, HttpRequest request) {
    discarding = false;
    // The head is complete (well formed or not): its deadline no longer runs.
    timeouts.headComplete(false);
    MessageRules.Refusal refusal = MessageRules.checkRequest(request);
    if (refusal != null) {
      refuse(ctx, refusal.status(), refusal.reason(), "request");
      return;
    }
    long length = HttpUtil.getContentLength(request, 0L);
    boolean bodyPending = length > 0 || HttpUtil.isTransferEncodingChunked(request);
    timeouts.headComplete(bodyPending);
    if (length > parts.maxBodyBytes()) {
      refuse(
          ctx,
          HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
          "request body of " + length + " bytes exceeds server.maxBodyBytes",
          "too_large");
      return;
    }
    String uri = request.uri();
    // MessageRules admitted only origin-form without '#': the path is what precedes the query.
    int query = uri.indexOf('?');
    String path = query < 0 ? uri : uri.substring(0, query);
    boolean keepAlive = HttpUtil.isKeepAlive(request) && !bodyPending;
    if (HealthEndpoints.isHealthPath(path)) {
      HealthEndpoints.answer(ctx, parts.readiness(), path, keepAlive);
      discarding = bodyPending;
      afterLocalAnswer(ctx, keepAlive);
      return;
    }
    Router.Route route = parts.router().route(uri, path);
    if (route == null) {
      // The pool names are not the client's business: the 404 says how to ask, not what
      // exists.
      String id = parts.protocolLog().newRequestId();
      parts.accessLog().logUnrouted(ctx.channel().remoteAddress(), request, 404, id);
      sendError(
          ctx,
          HttpResponseStatus.NOT_FOUND,
          "no route for this path; use /proxy/<pool>/<path>",
          id,
          keepAlive);
      discarding = bodyPending;
      afterLocalAnswer(ctx, keepAlive);
      return;
    }
    ProxyExchange ex =
        new ProxyExchange(
            this,
            ctx,
            route.pool(),
            request,
            route.upstreamUri(),
            route.pool().context(request, ctx.channel().remoteAddress()));
    current = ex;
    parts.inFlight().incrementAndGet();
    ex.start();
  }

  /** The proxy answered by itself: the next request's deadlines start over, or reads end. */
  private void afterLocalAnswer(ChannelHandlerContext ctx, boolean keepAlive) {
    if (keepAlive && !parts.readiness().draining()) {
      timeouts.exchangeDone();
    } else {
      closing = true;
      releaseHeld();
    }
  }

  /** Called by the exchange when it ended; {@code keepAlive} says whether the connection stays. */
  void exchangeDone(ProxyExchange ex, boolean keepAlive) {
    if (current == ex) {
      current = null;
    }
    parts.inFlight().decrementAndGet();
    ChannelHandlerContext ctx = context;
    if (ctx == null) {
      return;
    }
    if (!keepAlive) {
      closing = true;
      releaseHeld();
      // The response is complete (or deliberately cut): close once what is written is
      // flushed.
      // An empty buffer passes Netty's HTTP encoder untouched: a cut chunked body gets no
      // end.
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    timeouts.exchangeDone();
    if (!held.isEmpty()) {
      // Not inline: this may run inside the upstream connection's read, which the next
      // exchange
      // could pick from the pool again.
      ctx.executor().execute(this::replayHeld);
    } else {
      // A no-op unless the exchange paused reads (request body back-pressure): no system
      // call.
      ctx.channel().config().setAutoRead(true);
    }
  }

  /** Hands held messages on in order, until one is a request that must wait again. */
  private void replayHeld() {
    ChannelHandlerContext ctx = context;
    if (ctx == null || !ctx.channel().isActive() || closing) {
      return;
    }
    // Reads on first: an exchange started below may pause them again (request body
    // back-pressure).
    ctx.channel().config().setAutoRead(true);
    while (!held.isEmpty() && !closing) {
      if (held.peek() instanceof HttpRequest && current != null && !current.isDone()) {
        ctx.channel().config().setAutoRead(false);
        return;
      }
      dispatch(ctx, held.poll());
    }
    releaseHeld();
  }

  private void releaseHeld() {
    held.forEach(ReferenceCountUtil::release);
    held.clear();
  }

  /** A malformed request body: the exchange (if any) ends, the client gets 400 or a close. */
  private void badBody(ChannelHandlerContext ctx, String why) {
    ProxyExchange ex = current;
    if (ex != null && !ex.isDone()) {
      ex.clientFault(HttpResponseStatus.BAD_REQUEST, "malformed request body: " + why);
      return;
    }
    refuse(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request body: " + why, "request");
  }

  /**
   * Refuses what the client sent: a logged, counted 4xx that closes the connection. What it says is
   * about the client's own input only.
   */
  void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String why, String kind) {
    String id = parts.protocolLog().newRequestId();
    parts
        .protocolLog()
        .record(
            ProtocolLog.Side.CLIENT,
            kind,
            id,
            ctx.channel().remoteAddress(),
            status.code() + " " + why);
    LOG.debug("refused request {} from {}: {}", id, ctx.channel().remoteAddress(), why);
    sendError(ctx, status, why, id, false);
    closing = true;
    releaseHeld();
  }

  /**
   * The proxy's own error answer: {@code {"status":N,"error":"...","requestId":"..."}} and {@code
   * X-Request-Id}. For 5xx the text is the status's own phrase: what went wrong inside (endpoint,
   * address, cause) is logged under the id, never sent. Closes the connection unless {@code
   * keepAlive}.
   */
  void sendError(
      ChannelHandlerContext ctx,
      HttpResponseStatus status,
      String message,
      String requestId,
      boolean keepAlive) {
    String text =
        status.code() >= 500
            ? status.reasonPhrase().toLowerCase(Locale.ROOT)
            : MessageRules.printable(message);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", status.code());
    body.put("error", text);
    body.put("requestId", requestId);
    boolean keep = keepAlive && !parts.readiness().draining();
    if (!keep) {
      closing = true;
    }
    HttpReplies.json(
        ctx,
        status,
        body,
        keep,
        h -> {
          h.set("x-request-id", requestId);
          if (status == HttpResponseStatus.METHOD_NOT_ALLOWED) {
            h.set(HttpHeaderNames.ALLOW, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
          }
        });
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    context = ctx;
    if (!parts.clientCap().admit(ctx.channel().remoteAddress())) {
      closing = true;
      parts
          .protocolLog()
          .record(
              ProtocolLog.Side.CLIENT,
              "connection_cap",
              "-",
              ctx.channel().remoteAddress(),
              "more than server.maxConnectionsPerClient connections");
      ctx.close();
      return;
    }
    counted = true;
    parts.clients().add(ctx.channel());
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (counted) {
      parts.clientCap().release(ctx.channel().remoteAddress());
    }
    releaseHeld();
    ProxyExchange ex = current;
    if (ex != null && !ex.isDone()) {
      ex.onClientClosed();
      if (current == ex) { // (a tunnel's end already reported itself through exchangeDone)
        current = null;
        parts.inFlight().decrementAndGet();
      }
    }
    current = null;
    ctx.fireChannelInactive();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    ProxyExchange ex = current;
    if (ex != null) {
      ex.onClientWritabilityChanged();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      // A silent connection: nothing read or written for server.idleTimeout.
      ProxyExchange ex = current;
      if (ex != null && !ex.isDone()) {
        ex.clientFault(HttpResponseStatus.REQUEST_TIMEOUT, "client idle past server.idleTimeout");
      } else {
        ctx.close();
      }
      return;
    }
    if (evt instanceof ClientTimeouts.Expired expired) {
      String why =
          expired == ClientTimeouts.Expired.HEAD
              ? "request head not complete within server.requestHeadTimeout"
              : "request body idle past server.bodyIdleTimeout";
      ProxyExchange ex = current;
      if (ex != null && !ex.isDone()) {
        ex.clientFault(HttpResponseStatus.REQUEST_TIMEOUT, why);
      } else {
        refuse(ctx, HttpResponseStatus.REQUEST_TIMEOUT, why, "timeout");
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("client connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
