package io.miniloadbalancer.edge;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane, one instance per client connection: validates each request, routes it to a pool
 * ({@code /proxy/<pool>/<path>} or a configured prefix route) and runs a {@link ProxyExchange}.
 * Nothing in a request chooses the upstream host: only members of configured pools are ever
 * connected to. Bad input gets a 4xx and, when the connection's framing can no longer be trusted, a
 * close; never a stack trace.
 */
final class ProxyHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyHandler.class);

  private final EdgeProxy edge;
  private @Nullable ProxyExchange current;
  private @Nullable ChannelHandlerContext context;
  /** After an error answer to a request whose body is still coming: drop it until its end. */
  private boolean discarding;
  /**
   * A pipelined request (and what follows it) that arrived while an exchange was in flight, in
   * arrival order; replayed when that exchange ends. Reads stop while anything is held, so this is
   * at most what one socket read decoded into.
   */
  private final ArrayDeque<Object> held = new ArrayDeque<>();

  ProxyHandler(EdgeProxy edge) {
    this.edge = edge;
  }

  UpstreamConnections connections() {
    return edge.connections();
  }

  EdgeConfig config() {
    return edge.config();
  }

  boolean draining() {
    return edge.draining();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    // Reads stay on while a response is in flight instead of being paused per request: pausing
    // costs two epoll_ctl system calls per request (about 6% of the proxy's CPU in the wrk
    // benchmark), and clients rarely pipeline. One that does has its next request held here.
    if (!held.isEmpty() || (msg instanceof HttpRequest && current != null && !current.isDone())) {
      if (held.isEmpty()) {
        ctx.channel().config().setAutoRead(false);
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
      if (content.decoderResult().isFailure()) {
        ReferenceCountUtil.release(content);
        badInput(ctx, content.decoderResult().cause());
        return;
      }
      ProxyExchange ex = current;
      if (ex != null && !ex.isDone()) {
        ex.onClientContent(content);
      } else {
        ReferenceCountUtil.release(content);
        if (content instanceof LastHttpContent && discarding) {
          discarding = false;
        }
      }
    } else if (!(msg instanceof HttpRequest)) {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onRequest(ChannelHandlerContext ctx, HttpRequest request) {
    if (request.decoderResult().isFailure()) {
      badInput(ctx, request.decoderResult().cause());
      return;
    }
    discarding = false;
    if (request.headers().contains(HttpHeaderNames.CONTENT_LENGTH)
        && request.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      // RFC 9112 6.3: a request smuggling vector; refuse rather than guess.
      sendError(ctx, HttpResponseStatus.BAD_REQUEST, "both Content-Length and Transfer-Encoding", false);
      return;
    }
    if (request.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)
        && !HttpUtil.isTransferEncodingChunked(request)) {
      sendError(ctx, HttpResponseStatus.NOT_IMPLEMENTED, "unsupported Transfer-Encoding", false);
      return;
    }
    long length;
    try {
      length = HttpUtil.getContentLength(request, 0L);
    } catch (NumberFormatException e) {
      sendError(ctx, HttpResponseStatus.BAD_REQUEST, "invalid Content-Length", false);
      return;
    }
    if (length < 0) {
      sendError(ctx, HttpResponseStatus.BAD_REQUEST, "invalid Content-Length", false);
      return;
    }
    if (length > edge.config().server().maxBodyBytes()) {
      sendError(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
          "request body of " + length + " bytes exceeds server.maxBodyBytes", false);
      return;
    }
    if (request.method().equals(HttpMethod.CONNECT)) {
      sendError(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "CONNECT is not supported: this is not a forward proxy", false);
      return;
    }
    String uri = request.uri();
    if (!uri.startsWith("/")) {
      // Absolute-form (http://host/...) would name a host: refused, the pools alone decide.
      sendError(ctx, HttpResponseStatus.BAD_REQUEST, "request target must be a path (origin-form)", false);
      return;
    }
    String path = new QueryStringDecoder(uri).rawPath();
    boolean bodyPending = length > 0 || HttpUtil.isTransferEncodingChunked(request);
    if (path.equals("/healthz") || path.equals("/readyz")) {
      HealthEndpoints.answer(ctx, edge, path, HttpUtil.isKeepAlive(request) && !bodyPending);
      discarding = bodyPending;
      return;
    }
    Route route = route(uri, path);
    if (route == null) {
      sendError(ctx, HttpResponseStatus.NOT_FOUND,
          "no route for " + path + "; use /proxy/<pool>/<path> (pools: " + edge.pools().keySet() + ")",
          HttpUtil.isKeepAlive(request) && !bodyPending);
      discarding = bodyPending;
      return;
    }
    ProxyExchange ex =
        new ProxyExchange(
            this,
            ctx,
            route.pool(),
            request,
            route.upstreamUri(),
            route.pool().context(request, ctx.channel().remoteAddress()),
            edge.config().server().maxBodyBytes());
    current = ex;
    edge.exchangeStarted();
    ex.start();
  }

  private record Route(PoolRuntime pool, String upstreamUri) {}

  private @Nullable Route route(String uri, String path) {
    if (path.startsWith("/proxy/")) {
      int slash = path.indexOf('/', "/proxy/".length());
      String name = slash < 0 ? path.substring(7) : path.substring(7, slash);
      PoolRuntime pool = edge.pools().get(name);
      if (pool == null) {
        return null;
      }
      String rest = uri.substring(Math.min(uri.length(), 7 + name.length()));
      if (rest.isEmpty() || rest.charAt(0) == '?') {
        rest = "/" + rest;
      }
      return new Route(pool, rest);
    }
    for (EdgeConfig.Route r : edge.config().routes()) {
      if (path.startsWith(r.prefix())) {
        return new Route(edge.pools().get(r.pool()), uri);
      }
    }
    return null;
  }

  /** Called by the exchange when it ended; {@code keepAlive} says whether the connection stays. */
  void exchangeDone(ProxyExchange ex, boolean keepAlive) {
    if (current == ex) {
      current = null;
    }
    edge.exchangeEnded();
    ChannelHandlerContext ctx = context;
    if (ctx == null) {
      return;
    }
    if (!keepAlive) {
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    } else if (!held.isEmpty()) {
      // Not inline: this may run inside the upstream connection's read, which the next exchange
      // could pick from the pool again.
      ctx.executor().execute(this::replayHeld);
    } else {
      // A no-op unless the exchange paused reads (request body back-pressure): no system call.
      ctx.channel().config().setAutoRead(true);
    }
  }

  /** Hands held messages on in order, until one is a request that must wait again. */
  private void replayHeld() {
    ChannelHandlerContext ctx = context;
    if (ctx == null || !ctx.channel().isActive()) {
      return;
    }
    // Reads on first: an exchange started below may pause them again (request body back-pressure).
    ctx.channel().config().setAutoRead(true);
    while (!held.isEmpty()) {
      if (held.peek() instanceof HttpRequest && current != null && !current.isDone()) {
        ctx.channel().config().setAutoRead(false);
        return;
      }
      dispatch(ctx, held.poll());
    }
  }

  private void badInput(ChannelHandlerContext ctx, Throwable cause) {
    HttpResponseStatus status;
    if (cause instanceof TooLongHttpHeaderException) {
      status = HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
    } else if (cause instanceof TooLongHttpLineException) {
      status = HttpResponseStatus.REQUEST_URI_TOO_LONG;
    } else if (cause instanceof TooLongFrameException) {
      status = HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
    } else {
      status = HttpResponseStatus.BAD_REQUEST;
    }
    ProxyExchange ex = current;
    if (ex != null && !ex.isDone()) {
      ex.onClientClosed();
      current = null;
      edge.exchangeEnded();
    }
    String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    LOG.debug("bad request from {}: {}", ctx.channel().remoteAddress(), why);
    sendError(ctx, status, "malformed request: " + firstLine(why), false);
  }

  /** A JSON error answer; closes the connection unless {@code keepAlive}. */
  void sendError(ChannelHandlerContext ctx, HttpResponseStatus status, String message, boolean keepAlive) {
    HttpReplies.json(
        ctx,
        status,
        Map.of("status", status.code(), "error", message),
        keepAlive && !edge.draining(),
        h -> {
          if (status == HttpResponseStatus.METHOD_NOT_ALLOWED) {
            h.set(HttpHeaderNames.ALLOW, "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
          }
        });
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 200 ? line.substring(0, 200) : line;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    context = ctx;
    edge.clients().add(ctx.channel());
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    held.forEach(ReferenceCountUtil::release);
    held.clear();
    ProxyExchange ex = current;
    if (ex != null && !ex.isDone()) {
      ex.onClientClosed();
      edge.exchangeEnded();
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
      // A slow or silent client: nothing read or written for server.idleTimeout.
      ctx.close();
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
