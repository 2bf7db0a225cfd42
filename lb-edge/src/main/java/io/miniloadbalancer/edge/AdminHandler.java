package io.miniloadbalancer.edge;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.DrainResult;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.StrategySwitchRejectedException;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * The control plane. Read: {@code GET /admin/pools}, {@code /admin/pools/<pool>} (the snapshot),
 * {@code /admin/pools/<pool>/transitions}, {@code /admin/pools/<pool>/explain} ("why this
 * endpoint" for a sample request), {@code /admin/config} (secrets redacted), {@code /admin/env}.
 * Write: {@code POST /admin/pools/<pool>/strategy?name=<strategy>}, {@code POST
 * /admin/pools/<pool>/endpoints/<id>/drain[?timeout=30s]}, {@code .../undrain}, {@code
 * .../maint?on=true|false&reason=...}. Plus {@code /metrics} (Prometheus), {@code /healthz}, {@code
 * /readyz}. Errors are JSON with a message: 400 bad input, 401 missing or wrong token (when bound
 * publicly), 404 unknown route, pool or endpoint, 405 wrong method, 409 a refused strategy switch.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private final EdgeProxy edge;

  AdminHandler(EdgeProxy edge) {
    this.edge = edge;
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
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(text));
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
      send(ctx, r, text.length, keepAlive);
      return;
    }
    Answer answer;
    if (!path.startsWith("/admin/") && !path.equals("/admin")) {
      answer = Answer.error(HttpResponseStatus.NOT_FOUND, "no route " + path);
    } else if (!authorized(req)) {
      answer = Answer.error(HttpResponseStatus.UNAUTHORIZED, "missing or wrong bearer token");
    } else {
      try {
        answer = route(req.method(), path, q.parameters());
      } catch (IllegalArgumentException e) {
        answer = Answer.error(HttpResponseStatus.BAD_REQUEST, e.getMessage());
      } catch (RuntimeException e) {
        answer = Answer.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "admin action failed: " + e);
      }
    }
    write(ctx, answer, keepAlive);
  }

  private boolean authorized(FullHttpRequest req) {
    if (EdgeConfig.isLoopback(edge.config().admin().bind()) && edge.config().admin().token().isEmpty()) {
      return true;
    }
    String header = req.headers().get(HttpHeaderNames.AUTHORIZATION);
    String expected = "Bearer " + edge.config().admin().token();
    return header != null
        && MessageDigest.isEqual(
            header.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
  }

  private static boolean isRead(FullHttpRequest req) {
    return req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD);
  }

  private Answer route(HttpMethod method, String path, Map<String, List<String>> params) {
    String[] parts = path.substring(1).split("/");
    // parts[0] == "admin"
    if (parts.length == 2 && parts[1].equals("pools")) {
      return read(method, this::poolsSummary);
    }
    if (parts.length == 2 && parts[1].equals("config")) {
      return read(method, () -> edge.config().redacted());
    }
    if (parts.length == 2 && parts[1].equals("env")) {
      return read(method, edge::environment);
    }
    if (parts.length >= 3 && parts[1].equals("pools")) {
      PoolRuntime pool = edge.pools().get(parts[2]);
      if (pool == null) {
        return Answer.error(HttpResponseStatus.NOT_FOUND, "no pool '" + parts[2] + "'; pools: " + edge.pools().keySet());
      }
      if (parts.length == 3) {
        return read(method, () -> pool.balancer().snapshot());
      }
      if (parts.length == 4 && parts[3].equals("transitions")) {
        return read(method, () -> pool.balancer().snapshot().recentTransitions());
      }
      if (parts.length == 4 && parts[3].equals("explain")) {
        return read(method, () -> explain(pool, params));
      }
      if (parts.length == 4 && parts[3].equals("strategy")) {
        if (!method.equals(HttpMethod.POST)) {
          return new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", "use POST"), "POST");
        }
        String name = param(params, "name");
        if (name == null) {
          throw new IllegalArgumentException("query parameter 'name' (the strategy) is required");
        }
        try {
          BalancerSnapshot after = await(pool.balancer().switchStrategy(name, "admin"));
          return Answer.ok(Map.of("pool", pool.name(), "strategy", after.strategy(), "lastSwitch", after.lastSwitch()));
        } catch (StrategySwitchRejectedException e) {
          return Answer.error(HttpResponseStatus.CONFLICT, e.getMessage());
        }
      }
      if (parts.length == 6 && parts[3].equals("endpoints")) {
        if (!method.equals(HttpMethod.POST)) {
          return new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", "use POST"), "POST");
        }
        String id = parts[4];
        if (pool.balancer().snapshot().endpoint(id).isEmpty()) {
          return Answer.error(HttpResponseStatus.NOT_FOUND, "no endpoint '" + id + "' in pool '" + pool.name() + "'");
        }
        switch (parts[5]) {
          case "drain" -> {
            Duration timeout = duration(param(params, "timeout"), Duration.ofSeconds(30));
            CompletableFuture<DrainResult> f = pool.balancer().drain(id, timeout);
            // Answer at once: the drain proceeds; its result is in the snapshot and transitions.
            return new Answer(HttpResponseStatus.ACCEPTED, Map.of("pool", pool.name(), "endpoint", id, "draining", true, "timeout", timeout.toString(), "done", f.isDone()), null);
          }
          case "undrain" -> {
            await(pool.balancer().undrain(id));
            return Answer.ok(Map.of("pool", pool.name(), "endpoint", id, "draining", false));
          }
          case "maint" -> {
            String on = param(params, "on");
            if (on == null || !(on.equals("true") || on.equals("false"))) {
              throw new IllegalArgumentException("query parameter 'on' must be true or false");
            }
            String reason = param(params, "reason");
            await(pool.balancer().maintenance(id, Boolean.parseBoolean(on), reason == null ? "admin" : reason));
            return Answer.ok(Map.of("pool", pool.name(), "endpoint", id, "maintenance", Boolean.parseBoolean(on)));
          }
          default -> {
            return Answer.error(HttpResponseStatus.NOT_FOUND, "no action '" + parts[5] + "'; actions: drain, undrain, maint");
          }
        }
      }
    }
    return Answer.error(HttpResponseStatus.NOT_FOUND, "no route " + path);
  }

  private Answer read(HttpMethod method, java.util.function.Supplier<Object> body) {
    if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
      return new Answer(HttpResponseStatus.METHOD_NOT_ALLOWED, Map.of("error", "use GET"), "GET, HEAD");
    }
    return Answer.ok(body.get());
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

  private static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException | CompletionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(c);
    } catch (TimeoutException e) {
      throw new IllegalStateException("the balancer did not answer within 10 s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  private static @Nullable String param(Map<String, List<String>> params, String name) {
    List<String> v = params.get(name);
    return v == null || v.isEmpty() ? null : v.get(0);
  }

  private static Duration duration(@Nullable String raw, Duration fallback) {
    if (raw == null) {
      return fallback;
    }
    try {
      if (raw.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(raw.substring(0, raw.length() - 2)));
      }
      if (raw.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(raw.substring(0, raw.length() - 1)));
      }
      return Duration.parse(raw);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("timeout '" + raw + "' is not a duration like 30s or 500ms");
    }
  }

  private void write(ChannelHandlerContext ctx, Answer a, boolean keepAlive) {
    byte[] body = Json.write(a.body()).getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, a.status(), Unpooled.wrappedBuffer(body));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    if (a.allow() != null) {
      r.headers().set(HttpHeaderNames.ALLOW, a.allow());
    }
    if (a.status() == HttpResponseStatus.UNAUTHORIZED) {
      r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"edge-admin\"");
    }
    send(ctx, r, body.length, keepAlive);
  }

  private static void send(ChannelHandlerContext ctx, FullHttpResponse r, int length, boolean keepAlive) {
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
    r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    if (keepAlive) {
      ctx.writeAndFlush(r);
    } else {
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
