package io.miniloadbalancer.edge.admin;

import io.miniloadbalancer.edge.http.ClientTimeouts;
import io.miniloadbalancer.edge.http.HealthEndpoints;
import io.miniloadbalancer.edge.http.HttpReplies;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane, one instance per admin connection: checks every request, then hands it to
 * {@link PoolRoutes} or {@link DashboardRoutes}. Read: {@code GET /admin/pools}, {@code
 * /admin/pools/<pool>} (the snapshot), {@code /admin/pools/<pool>/transitions}, {@code
 * /admin/pools/<pool>/explain} ("why this endpoint" for a sample request), {@code /admin/config}
 * (secrets redacted), {@code /admin/env}. Write: {@code POST
 * /admin/pools/<pool>/strategy?name=<strategy>}, {@code POST
 * /admin/pools/<pool>/endpoints/<id>/drain[?timeout=30s]}, {@code .../undrain}, {@code
 * .../maint?on=true|false[&reason=...]}. The operator dashboard: {@code GET /admin/ui} and its
 * files under {@code /admin/ui/}, {@code /admin/ui/login} (page, and {@code POST} with the token
 * for a session cookie), {@code POST /admin/ui/logout} (revokes the session), {@code GET
 * /admin/ui/session}. Plus {@code /metrics} (Prometheus), {@code /healthz}, {@code /readyz}.
 *
 * <p>Every request first passes {@link AdminAuth}'s {@code Host} allow-list; who may do what is
 * also {@link AdminAuth}'s call. Path segments are percent-decoded one by one (so {@code %2F} in a
 * pool or endpoint id stays inside its segment) and strictly: a bad escape or invalid UTF-8 is a
 * 400. Write routes take only their own query parameters, each at most once (a typo such as {@code
 * ?timout=5m} is a 400, not a silent 30 s drain).
 *
 * <p>Errors are JSON {@code {"status":..,"error":".."}} with a message naming the parameter: 400
 * bad input, 401 missing or wrong token or session, 403 a refused {@code Host} or cross-site
 * change, 404 unknown route, pool, endpoint or file, 405 wrong method (with {@code Allow}), 409 a
 * refused strategy switch, 408 a request not complete within {@code server.requestHeadTimeout}
 * (slowloris; the data path's deadline, then a close), 414/431 a request line or headers over the
 * codec's limits, 429 too many wrong tokens (with {@code Retry-After}), 505 an HTTP version other
 * than 1.0 and 1.1. A 500 (a bug) says only {@code "internal error"} and a request id; the detail
 * is logged under that id.
 *
 * <p>Every state change (any request but GET and HEAD that reaches a route) is logged at INFO with
 * the caller's address, how it authenticated and the answer's status.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);

  private final AdminParts parts;
  private final AdminAuth auth;
  private final DashboardRoutes dashboard;
  private final RouteTable routes;
  private final ClientTimeouts timeouts;

  /** An answer is being computed off this event loop (reads are paused meanwhile). */
  private boolean answering;

  AdminHandler(AdminParts parts, ClientTimeouts timeouts) {
    this.parts = parts;
    this.auth = parts.auth();
    this.dashboard = new DashboardRoutes(parts);
    this.routes = new RouteTable(new PoolRoutes(parts), parts.profiling());
    this.timeouts = timeouts;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    // The aggregator hands over whole requests, so the head deadline covered head and body (at
    // most 1 MiB); from here the clock waits for the next request's first byte.
    timeouts.exchangeDone();
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    try {
      handle(ctx, req, keepAlive);
    } catch (RuntimeException e) {
      Answer.write(ctx, Answer.internalError(req.method() + " " + req.uri(), e), keepAlive);
    }
  }

  private void handle(ChannelHandlerContext ctx, FullHttpRequest req, boolean keepAlive) {
    if (req.decoderResult().isFailure()) {
      Throwable c = req.decoderResult().cause();
      HttpResponseStatus status =
          c instanceof TooLongHttpLineException
              ? HttpResponseStatus.REQUEST_URI_TOO_LONG
              : c instanceof TooLongHttpHeaderException
                  ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                  : c instanceof TooLongFrameException
                      ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE
                      : HttpResponseStatus.BAD_REQUEST;
      Answer.write(
          ctx,
          Answer.error(
              status, "malformed request: " + status.reasonPhrase().toLowerCase(Locale.ROOT)),
          false);
      return;
    }
    if (!req.protocolVersion().equals(HttpVersion.HTTP_1_1)
        && !req.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
      Answer.write(
          ctx,
          Answer.error(
              HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED,
              "only HTTP/1.0 and HTTP/1.1 are served"),
          false);
      return;
    }
    AdminAuth.Refusal host =
        auth.hostRefusal(req.protocolVersion(), req.headers(), ctx.channel().localAddress());
    if (host != null) {
      Answer.write(ctx, Answer.error(host.status(), host.message()), keepAlive);
      return;
    }
    Target t;
    try {
      t = Target.parse(req.uri());
    } catch (BadInput e) {
      Answer.write(ctx, Answer.error(HttpResponseStatus.BAD_REQUEST, e.getMessage()), keepAlive);
      return;
    }
    String path = t.path();
    if (HealthEndpoints.isHealthPath(path)) {
      if (!Answer.isRead(req.method())) {
        Answer.write(ctx, Answer.methodNotAllowed("GET, HEAD"), keepAlive);
        return;
      }
      HealthEndpoints.answer(ctx, parts.readiness(), path, keepAlive);
      return;
    }
    if (path.equals("/metrics")) {
      if (!Answer.isRead(req.method())) {
        Answer.write(ctx, Answer.methodNotAllowed("GET, HEAD"), keepAlive);
        return;
      }
      byte[] text = parts.metrics().get().getBytes(StandardCharsets.UTF_8);
      HttpReplies.send(
          ctx,
          HttpResponseStatus.OK,
          "text/plain; version=0.0.4; charset=utf-8",
          text,
          keepAlive,
          h -> {});
      return;
    }
    if (t.segments().isEmpty()) {
      t = new Target("/admin", List.of("admin"), t.params()); // GET /: the route index
    }
    if (!t.segments().get(0).equals("admin")) {
      Answer.write(
          ctx,
          Answer.error(HttpResponseStatus.NOT_FOUND, "no route " + AdminAuth.quote(path)),
          keepAlive);
      return;
    }
    InetAddress client = client(ctx);
    AdminAuth.Via via = auth.check(req.headers(), client);
    if (via == AdminAuth.Via.THROTTLED) {
      Answer.write(ctx, Answer.throttled(auth, client), keepAlive);
      return;
    }
    String forgery =
        auth.forgeryRefusal(req.method(), req.headers(), via, ctx.channel().localAddress());
    if (forgery != null) {
      Answer.write(ctx, Answer.error(HttpResponseStatus.FORBIDDEN, forgery), keepAlive);
      return;
    }
    if (t.segments().size() >= 2 && t.segments().get(1).equals("ui")) {
      dashboard.serve(ctx, req, t, via, client, keepAlive);
      return;
    }
    if (via == AdminAuth.Via.NONE) {
      Answer.write(ctx, Answer.unauthorized(), keepAlive);
      return;
    }
    HttpMethod method = req.method();
    String what = method + " " + AdminAuth.quote(req.uri());
    CompletableFuture<Answer> answer;
    try {
      answer = routes.route(method, t);
    } catch (BadInput e) {
      answer = PoolRoutes.done(Answer.error(HttpResponseStatus.BAD_REQUEST, e.getMessage()));
    } catch (RuntimeException e) {
      answer = PoolRoutes.done(Answer.internalError(what, e));
    }
    // Balancer actions complete on the balancer's control context: never wait for them on this
    // event loop. Reads pause meanwhile, so answers keep the order of requests.
    ctx.channel().config().setAutoRead(false);
    answering = true;
    answer.whenComplete(
        (a, e) ->
            ctx.executor()
                .execute(
                    () -> {
                      Answer out = a != null ? a : Answer.failure(what, e);
                      if (!Answer.isRead(method)) {
                        LOG.info(
                            "admin change {} from {} via {}: {}",
                            what,
                            client.getHostAddress(),
                            via.name().toLowerCase(Locale.ROOT),
                            out.status().code());
                      }
                      answering = false;
                      Answer.write(ctx, out, keepAlive);
                      ctx.channel().config().setAutoRead(true);
                    }));
  }

  private static InetAddress client(ChannelHandlerContext ctx) {
    return ctx.channel().remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null
        ? a.getAddress()
        : InetAddress.getLoopbackAddress();
  }

  /**
   * A request not complete within {@code server.requestHeadTimeout} (or a body idle past {@code
   * server.bodyIdleTimeout}): 408 and close, as on the data path; just a close when an answer to an
   * earlier pipelined request is still being computed (a 408 would overtake it).
   */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ClientTimeouts.Expired) {
      LOG.debug(
          "admin connection {}: request not complete in time ({})",
          ctx.channel().remoteAddress(),
          evt);
      if (answering) {
        ctx.close();
      } else {
        Answer.write(
            ctx,
            Answer.error(
                HttpResponseStatus.REQUEST_TIMEOUT,
                "request not complete within server.requestHeadTimeout"),
            false);
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // I/O errors (a reset peer) end the connection; handler errors are answered in
    // channelRead0.
    LOG.debug("admin connection {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
