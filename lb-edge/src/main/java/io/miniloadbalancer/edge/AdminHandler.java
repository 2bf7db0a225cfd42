package io.miniloadbalancer.edge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.DrainResult;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.Strategies;
import io.miniloadbalancer.core.StrategySwitchRejectedException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.jspecify.annotations.Nullable;

/**
 * The control plane. Read: {@code GET /admin/pools}, {@code /admin/pools/<pool>} (the snapshot),
 * {@code /admin/pools/<pool>/transitions}, {@code /admin/pools/<pool>/explain} ("why this
 * endpoint" for a sample request), {@code /admin/config} (secrets redacted), {@code /admin/env}.
 * Write: {@code POST /admin/pools/<pool>/strategy?name=<strategy>}, {@code POST
 * /admin/pools/<pool>/endpoints/<id>/drain[?timeout=30s]}, {@code .../undrain}, {@code
 * .../maint?on=true|false&reason=...}. The operator dashboard: {@code GET /admin/ui} and its files
 * under {@code /admin/ui/}, {@code /admin/ui/login} (page, and {@code POST} with the token for a
 * session cookie), {@code POST /admin/ui/logout}, {@code GET /admin/ui/session}. Plus {@code
 * /metrics} (Prometheus), {@code /healthz}, {@code /readyz}. Who may do what is {@link AdminAuth}'s
 * call. Errors are JSON with a message: 400 bad input, 401 missing or wrong token or session, 403 a
 * cross-site change refused, 404 unknown route, pool, endpoint or file, 405 wrong method, 409 a
 * refused strategy switch.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private final EdgeProxy edge;
  private final AdminAuth auth;

  AdminHandler(EdgeProxy edge) {
    this.edge = edge;
    this.auth = new AdminAuth(edge.config().admin(), Clock.systemUTC());
  }

  private record Answer(HttpResponseStatus status, Object body, @Nullable String allow) {
    static Answer ok(Object body) {
      return new Answer(HttpResponseStatus.OK, body, null);
    }

    static Answer error(HttpResponseStatus status, String message) {
      return new Answer(status, Map.of("status", status.code(), "error", message), null);
    }
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    if (req.decoderResult().isFailure()) {
      write(ctx, Answer.error(HttpResponseStatus.BAD_REQUEST, "malformed request"), false);
      return;
    }
    QueryStringDecoder q = new QueryStringDecoder(req.uri());
    String path = q.path();
    if (path.equals("/healthz") || path.equals("/readyz")) {
      HealthEndpoints.answer(ctx, edge, path, keepAlive);
      return;
    }
    if (path.equals("/metrics")) {
      if (!isRead(req)) {
        write(ctx, new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", "use GET"), "GET"), keepAlive);
        return;
      }
      PrometheusMeterRegistry registry = edge.registry();
      byte[] text = registry.scrape().getBytes(StandardCharsets.UTF_8);
      HttpReplies.send(ctx, HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8", text, keepAlive, h -> {});
      return;
    }
    if (!path.startsWith("/admin/") && !path.equals("/admin")) {
      write(ctx, Answer.error(HttpResponseStatus.NOT_FOUND, "no route " + path), keepAlive);
      return;
    }
    AdminAuth.Via via = auth.check(req.headers());
    String forgery = auth.forgeryRefusal(req.method(), req.headers(), via);
    if (forgery != null) {
      write(ctx, Answer.error(HttpResponseStatus.FORBIDDEN, forgery), keepAlive);
      return;
    }
    if (path.equals("/admin/ui") || path.startsWith("/admin/ui/")) {
      dashboard(ctx, req, path, via, keepAlive);
      return;
    }
    if (via == AdminAuth.Via.NONE) {
      write(ctx, Answer.error(HttpResponseStatus.UNAUTHORIZED, "missing or wrong bearer token or session"), keepAlive);
      return;
    }
    CompletableFuture<Answer> answer;
    try {
      answer = route(req.method(), path, q.parameters());
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    // Balancer actions complete on the balancer's control context: never wait for them on this
    // event loop. Reads pause meanwhile, so answers keep the order of requests.
    ctx.channel().config().setAutoRead(false);
    answer.whenComplete(
        (a, e) ->
            ctx.executor()
                .execute(
                    () -> {
                      write(ctx, a != null ? a : failure(e), keepAlive);
                      ctx.channel().config().setAutoRead(true);
                    }));
  }

  private static Answer failure(Throwable e) {
    Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (c instanceof StrategySwitchRejectedException) {
      return Answer.error(HttpResponseStatus.CONFLICT, c.getMessage());
    }
    if (c instanceof IllegalArgumentException) {
      return Answer.error(HttpResponseStatus.BAD_REQUEST, c.getMessage());
    }
    return Answer.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "admin action failed: " + c);
  }

  /**
   * The dashboard's routes. Pages other than the login page's files need a session (or the token,
   * or the open mode); a browser without one is sent to the login page rather than shown a bare 401.
   */
  private void dashboard(
      ChannelHandlerContext ctx, FullHttpRequest req, String path, AdminAuth.Via via, boolean keepAlive) {
    String name = path.equals("/admin/ui") || path.equals("/admin/ui/") ? "index.html" : path.substring("/admin/ui/".length());
    switch (name) {
      case "login" -> {
        if (req.method().equals(HttpMethod.POST)) {
          login(ctx, req, keepAlive);
          return;
        }
        name = "login.html";
      }
      case "logout" -> {
        if (!req.method().equals(HttpMethod.POST)) {
          write(ctx, new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", "use POST"), "POST"), keepAlive);
          return;
        }
        HttpReplies.json(ctx, HttpResponseStatus.OK, Map.of("loggedOut", true), keepAlive, h -> {
          securityHeaders(h);
          h.set(HttpHeaderNames.SET_COOKIE, AdminAuth.expiredSessionCookie());
        });
        return;
      }
      case "session" -> {
        if (via == AdminAuth.Via.NONE) {
          write(ctx, Answer.error(HttpResponseStatus.UNAUTHORIZED, "missing or wrong bearer token or session"), keepAlive);
        } else if (!isRead(req)) {
          write(ctx, new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", "use GET"), "GET, HEAD"), keepAlive);
        } else {
          Map<String, Object> body = new LinkedHashMap<>();
          body.put("authRequired", auth.required());
          body.put("via", via.name().toLowerCase(Locale.ROOT));
          write(ctx, Answer.ok(body), keepAlive);
        }
        return;
      }
      default -> {
        // A file name from the allow-list below, or 404.
      }
    }
    DashboardAssets.Asset asset = DashboardAssets.get(name);
    if (asset == null) {
      write(ctx, Answer.error(HttpResponseStatus.NOT_FOUND, "no dashboard file '" + name + "'; files: " + DashboardAssets.names()), keepAlive);
      return;
    }
    if (!isRead(req)) {
      write(ctx, new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", "use GET"), "GET, HEAD"), keepAlive);
      return;
    }
    if (via == AdminAuth.Via.NONE && !DashboardAssets.PUBLIC.contains(asset.name())) {
      byte[] text = "log in at /admin/ui/login\n".getBytes(StandardCharsets.UTF_8);
      HttpReplies.send(ctx, HttpResponseStatus.SEE_OTHER, "text/plain; charset=utf-8", text, keepAlive, h -> {
        securityHeaders(h);
        h.set(HttpHeaderNames.LOCATION, "/admin/ui/login");
      });
      return;
    }
    boolean unchanged = asset.etag().equals(req.headers().get(HttpHeaderNames.IF_NONE_MATCH));
    HttpReplies.send(
        ctx,
        unchanged ? HttpResponseStatus.NOT_MODIFIED : HttpResponseStatus.OK,
        asset.contentType(),
        unchanged ? new byte[0] : asset.bytes(),
        keepAlive,
        h -> {
          securityHeaders(h);
          // Revalidate every load (a new jar may serve new files under the same names); the ETag
          // makes that a bodiless 304.
          h.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
          h.set(HttpHeaderNames.ETAG, asset.etag());
          if (unchanged) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
          }
        });
  }

  /** {@code POST /admin/ui/login} with the form field {@code token}: a session cookie, or 401. */
  private void login(ChannelHandlerContext ctx, FullHttpRequest req, boolean keepAlive) {
    String form = req.content().toString(StandardCharsets.UTF_8);
    String token = param(new QueryStringDecoder(form, StandardCharsets.UTF_8, false).parameters(), "token");
    if (!auth.required()) {
      write(ctx, Answer.ok(Map.of("session", false, "message", "no token needed: the admin plane is on loopback without a token")), keepAlive);
      return;
    }
    if (token == null || token.isEmpty()) {
      write(ctx, Answer.error(HttpResponseStatus.BAD_REQUEST, "form field 'token' is required"), keepAlive);
      return;
    }
    if (!auth.tokenMatches(token)) {
      write(ctx, Answer.error(HttpResponseStatus.UNAUTHORIZED, "wrong token"), keepAlive);
      return;
    }
    Map<String, Object> body = Map.of("session", true, "lifetime", AdminAuth.SESSION_LIFETIME.toString());
    HttpReplies.json(ctx, HttpResponseStatus.OK, body, keepAlive, h -> {
      securityHeaders(h);
      h.set(HttpHeaderNames.SET_COOKIE, auth.newSessionCookie());
    });
  }

  /** Headers on every admin-plane answer: no sniffing, no framing, no inline code, no referrer. */
  private static void securityHeaders(HttpHeaders h) {
    h.set("X-Content-Type-Options", "nosniff");
    h.set(HttpHeaderNames.CONTENT_SECURITY_POLICY, DashboardAssets.CONTENT_SECURITY_POLICY);
    h.set(HttpHeaderNames.X_FRAME_OPTIONS, "DENY");
    h.set("Referrer-Policy", "no-referrer");
  }

  private static boolean isRead(FullHttpRequest req) {
    return req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD);
  }

  private CompletableFuture<Answer> route(
      HttpMethod method, String path, Map<String, List<String>> params) {
    String[] parts = path.substring(1).split("/");
    // parts[0] == "admin"
    if (parts.length == 2 && parts[1].equals("pools")) {
      return read(method, this::poolsSummary);
    }
    if (parts.length == 2 && parts[1].equals("config")) {
      return read(method, () -> edge.config().redacted());
    }
    if (parts.length == 2 && parts[1].equals("env")) {
      return read(method, edge::environmentView);
    }
    if (parts.length >= 3 && parts[1].equals("pools")) {
      PoolRuntime pool = edge.pools().get(parts[2]);
      if (pool == null) {
        return done(Answer.error(HttpResponseStatus.NOT_FOUND, "no pool '" + parts[2] + "'; pools: " + edge.pools().keySet()));
      }
      if (parts.length == 3) {
        return read(method, () -> poolView(pool));
      }
      if (parts.length == 4 && parts[3].equals("transitions")) {
        return read(method, () -> pool.balancer().snapshot().recentTransitions());
      }
      if (parts.length == 4 && parts[3].equals("explain")) {
        return read(method, () -> explain(pool, params));
      }
      if (parts.length == 4 && parts[3].equals("strategy")) {
        if (!method.equals(HttpMethod.POST)) {
          return done(new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", "use POST"), "POST"));
        }
        String name = param(params, "name");
        if (name == null) {
          throw new IllegalArgumentException("query parameter 'name' (the strategy) is required");
        }
        return pool.balancer()
            .switchStrategy(name, "admin")
            .thenApply(
                after ->
                    Answer.ok(
                        Map.of("pool", pool.name(), "strategy", after.strategy(), "lastSwitch", after.lastSwitch())));
      }
      if (parts.length == 6 && parts[3].equals("endpoints")) {
        if (!method.equals(HttpMethod.POST)) {
          return done(new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", "use POST"), "POST"));
        }
        String id = parts[4];
        if (pool.balancer().snapshot().endpoint(id).isEmpty()) {
          return done(Answer.error(HttpResponseStatus.NOT_FOUND, "no endpoint '" + id + "' in pool '" + pool.name() + "'"));
        }
        switch (parts[5]) {
          case "drain" -> {
            String raw = param(params, "timeout");
            Duration timeout = raw == null ? Duration.ofSeconds(30) : ConfigLoader.parseDuration(raw, "timeout");
            CompletableFuture<DrainResult> f = pool.balancer().drain(id, timeout);
            // Answer at once: the drain proceeds; its result is in the snapshot and transitions.
            return done(new Answer(HttpResponseStatus.ACCEPTED, Map.of("pool", pool.name(), "endpoint", id, "draining", true, "timeout", timeout.toString(), "done", f.isDone()), null));
          }
          case "undrain" -> {
            return pool.balancer()
                .undrain(id)
                .thenApply(v -> Answer.ok(Map.of("pool", pool.name(), "endpoint", id, "draining", false)));
          }
          case "maint" -> {
            String on = param(params, "on");
            if (on == null || !(on.equals("true") || on.equals("false"))) {
              throw new IllegalArgumentException("query parameter 'on' must be true or false");
            }
            String reason = param(params, "reason");
            boolean value = Boolean.parseBoolean(on);
            return pool.balancer()
                .maintenance(id, value, reason == null ? "admin" : reason)
                .thenApply(v -> Answer.ok(Map.of("pool", pool.name(), "endpoint", id, "maintenance", value)));
          }
          default -> {
            return done(Answer.error(HttpResponseStatus.NOT_FOUND, "no action '" + parts[5] + "'; actions: drain, undrain, maint"));
          }
        }
      }
    }
    return done(Answer.error(HttpResponseStatus.NOT_FOUND, "no route " + path));
  }

  private static CompletableFuture<Answer> done(Answer a) {
    return CompletableFuture.completedFuture(a);
  }

  private static CompletableFuture<Answer> read(HttpMethod method, java.util.function.Supplier<Object> body) {
    if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
      return done(new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", "use GET"), "GET, HEAD"));
    }
    return done(Answer.ok(body.get()));
  }

  /**
   * The pool's snapshot, plus what the dashboard needs that a snapshot does not hold: each
   * endpoint's recent error rate and the strategies a switch may choose.
   */
  private Object poolView(PoolRuntime pool) {
    BalancerSnapshot s = pool.balancer().snapshot();
    ObjectNode view = Json.MAPPER.valueToTree(s);
    view.putPOJO("recentErrorRates", edge.errorRates().observe(s, s.tickerNanos()));
    view.putPOJO("strategies", Strategies.names());
    return view;
  }

  private List<Map<String, Object>> poolsSummary() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (PoolRuntime p : edge.pools().values()) {
      BalancerSnapshot s = p.balancer().snapshot();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", p.name());
      m.put("strategy", s.strategy());
      m.put("endpoints", s.endpoints().size());
      m.put("routable", s.routableCount());
      m.put("inFlight", s.totalInFlight());
      m.put("panic", s.panic());
      m.put("source", s.source());
      out.add(m);
    }
    return out;
  }

  /**
   * Why this endpoint: the pool's strategy, the key a request with these headers would hash, which
   * endpoints are candidates (with effective weights) and which are skipped and why, and a real
   * pick, released at once as cancelled (it counts in the cancelled metrics).
   */
  private Map<String, Object> explain(PoolRuntime pool, Map<String, List<String>> params) {
    BalancerSnapshot s = pool.balancer().snapshot();
    String key = null;
    if (pool.hashKey() != null) {
      if (pool.hashKey().startsWith("header:")) {
        key = param(params, "header." + pool.hashKey().substring(7));
      } else if (pool.hashKey().startsWith("cookie:")) {
        key = param(params, "cookie." + pool.hashKey().substring(7));
      } else {
        key = param(params, "client");
      }
    }
    List<Map<String, Object>> candidates = new ArrayList<>();
    List<Map<String, Object>> skipped = new ArrayList<>();
    for (EndpointSnapshot e : s.endpoints()) {
      if (e.routable()) {
        candidates.add(Map.of("id", e.id(), "effectiveWeight", e.effectiveWeight(), "inFlight", e.inFlight()));
      } else {
        skipped.add(Map.of("id", e.id(), "state", e.state(), "why", e.lastTransition() == null ? "" : e.lastTransition().reason()));
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("pool", pool.name());
    out.put("strategy", s.strategy());
    out.put("hashKeyFrom", pool.hashKey() == null ? "none (random)" : pool.hashKey());
    out.put("key", key);
    out.put("panic", s.panic());
    out.put("zoneMode", s.zoneMode());
    out.put("candidates", candidates);
    out.put("skipped", skipped);
    try (Lease lease = pool.balancer().acquire(key == null ? RequestContext.none() : RequestContext.ofKey(key))) {
      out.put("chosen", lease.endpoint().id());
    } catch (NoEndpointAvailableException e) {
      out.put("chosen", null);
      out.put("why", e.getMessage());
    }
    return out;
  }

  private static @Nullable String param(Map<String, List<String>> params, String name) {
    List<String> v = params.get(name);
    return v == null || v.isEmpty() ? null : v.get(0);
  }

  private static void write(ChannelHandlerContext ctx, Answer a, boolean keepAlive) {
    HttpReplies.json(
        ctx,
        a.status(),
        a.body(),
        keepAlive,
        h -> {
          securityHeaders(h);
          if (a.allow() != null) {
            h.set(HttpHeaderNames.ALLOW, a.allow());
          }
          if (a.status() == HttpResponseStatus.UNAUTHORIZED) {
            h.set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"edge-admin\"");
          }
        });
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
