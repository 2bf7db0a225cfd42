package io.miniloadbalancer.edge.admin;

import io.miniloadbalancer.core.Strategies;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The admin plane's JSON routes. Read: {@code GET /admin/pools}, {@code /admin/pools/<pool>} (the
 * snapshot), {@code /admin/pools/<pool>/transitions}, {@code /admin/pools/<pool>/explain}, {@code
 * /admin/config} (secrets redacted), {@code /admin/env}. Write (the drain and strategy commands):
 * {@code POST /admin/pools/<pool>/strategy?name=<strategy>}, {@code POST
 * /admin/pools/<pool>/endpoints/<id>/drain[?timeout=30s]}, {@code .../undrain}, {@code
 * .../maint?on=true|false[&reason=...]}, {@code POST /admin/config/reload} (the config file again;
 * 400 with the reason when it is invalid). Write routes take only their own query parameters, each
 * at most once (a typo such as {@code ?timout=5m} is a 400, not a silent 30 s drain). Balancer
 * actions complete on the balancer's control context: the answer is a future.
 */
final class PoolRoutes {

  /**
   * A drain without {@code timeout}: 30 s, the upstream response timeout's default, so a request
   * already sent to the endpoint can finish, yet a drain started by mistake does not hold the
   * endpoint for minutes. AWS ALB's deregistration delay defaults to 300 s and Envoy's listener
   * {@code drain_time_s} to 600 s; those drain whole targets or listeners, this one endpoint.
   */
  static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

  /**
   * The longest drain an operator may ask for: 1 hour, the maximum of AWS ALB's deregistration
   * delay (0-3600 s). An endpoint kept out longer is in maintenance, not draining: use {@code
   * maint}. The bound also keeps the timeout far from overflowing a nanosecond deadline.
   */
  static final Duration MAX_DRAIN_TIMEOUT = Duration.ofHours(1);

  /**
   * A maintenance reason's longest length: 200 characters, a sentence; it is kept in transitions,
   * snapshots and log lines, which a megabyte reason would bloat.
   */
  static final int MAX_REASON_LENGTH = 200;

  /**
   * The admin plane's one duration syntax, the config's short form: digits and {@code ms}, {@code
   * s}, {@code m} or {@code h}. No sign, no fraction, no ISO-8601 ({@code PT-5S} would be a
   * negative duration), at most 9 digits (no overflow before the maximum is checked).
   */
  private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})(ms|s|m|h)");

  private final AdminParts parts;
  private final PoolViews views;

  PoolRoutes(AdminParts parts) {
    this.parts = parts;
    this.views = new PoolViews(parts);
  }

  /**
   * The pool and process rows of the route table, in the order {@code GET /admin} lists them. The
   * handlers check their own methods (405 with {@code Allow}) and parameters.
   */
  List<AdminRoute> routes() {
    return List.of(
        new AdminRoute(
            "GET",
            "/admin/pools",
            "every pool: strategy and endpoint counts by state",
            (m, t, v) -> read(m, views::poolsSummary)),
        new AdminRoute(
            "GET",
            "/admin/pools/{pool}",
            "the pool's snapshot: endpoints, states, weights, load",
            (m, t, v) -> withPool(v.get(0), pool -> read(m, () -> views.poolView(pool)))),
        new AdminRoute(
            "GET",
            "/admin/pools/{pool}/transitions",
            "the pool's recent state transitions",
            (m, t, v) ->
                withPool(
                    v.get(0),
                    pool -> read(m, () -> pool.balancer().snapshot().recentTransitions()))),
        new AdminRoute(
            "GET",
            "/admin/pools/{pool}/explain",
            "why this endpoint: the pick for a sample request (?key=, ?header=...)",
            (m, t, v) ->
                withPool(v.get(0), pool -> read(m, () -> views.explain(pool, t.params())))),
        new AdminRoute(
            "POST",
            "/admin/pools/{pool}/strategy",
            "switch the pool's strategy: ?name=<strategy>",
            (m, t, v) -> withPool(v.get(0), pool -> switchStrategy(m, pool, t))),
        new AdminRoute(
            "POST",
            "/admin/pools/{pool}/endpoints/{id}/{action}",
            "drain[?timeout=30s], undrain, or maint?on=true|false[&reason=...] one endpoint",
            (m, t, v) ->
                withPool(
                    v.get(0), pool -> endpointAction(m, pool, v.get(1), v.get(2), t.params()))),
        new AdminRoute(
            "GET",
            "/admin/config",
            "the running configuration, secrets redacted",
            (m, t, v) -> read(m, () -> this.parts.currentConfig().redacted())),
        new AdminRoute(
            "POST",
            "/admin/config/reload",
            "read the config file again and apply it (400 with the reason when it is invalid)",
            (m, t, v) -> reload(m, t)),
        new AdminRoute(
            "GET",
            "/admin/env",
            "where the proxy runs: ECS task, zone, address, Consul registration",
            (m, t, v) -> read(m, () -> this.parts.environment().get())));
  }

  /** The pool named {@code name}, or a 404 naming the pools there are. */
  private CompletableFuture<Answer> withPool(
      String name, java.util.function.Function<ManagedPool, CompletableFuture<Answer>> then) {
    ManagedPool pool = this.parts.pools().get(name);
    if (pool == null) {
      return done(
          Answer.error(
              HttpResponseStatus.NOT_FOUND,
              "no pool " + AdminAuth.quote(name) + "; pools: " + this.parts.pools().keySet()));
    }
    return then.apply(pool);
  }

  private CompletableFuture<Answer> switchStrategy(HttpMethod method, ManagedPool pool, Target t) {
    if (!method.equals(HttpMethod.POST)) {
      return done(Answer.methodNotAllowed("POST"));
    }
    Map<String, String> p = only(t.params(), "strategy", Set.of("name"));
    String name = p.get("name");
    if (name == null || name.isEmpty()) {
      throw new BadInput(
          "query parameter 'name' (the strategy) is required; known: " + Strategies.names());
    }
    if (!Strategies.names().contains(name)) {
      throw new BadInput(
          "query parameter 'name': unknown strategy "
              + AdminAuth.quote(name)
              + "; known: "
              + Strategies.names());
    }
    return pool.balancer()
        .switchStrategy(name, "admin")
        .thenApply(
            after -> {
              // lastSwitch is null on a pool never switched (a no-op switch to its strategy).
              Map<String, Object> body = new LinkedHashMap<>();
              body.put("pool", pool.name());
              body.put("strategy", after.strategy());
              body.put("lastSwitch", after.lastSwitch());
              return Answer.ok(body);
            });
  }

  /**
   * {@code POST /admin/config/reload}: 200 with the report when applied or unchanged, 400 with the
   * file's error when it was refused (the running configuration stays).
   */
  private CompletableFuture<Answer> reload(HttpMethod method, Target t) {
    if (!method.equals(HttpMethod.POST)) {
      return done(Answer.methodNotAllowed("POST"));
    }
    only(t.params(), "reload", Set.of());
    ConfigControl control = parts.control().get();
    if (control == null) {
      return done(
          // A request this proxy cannot serve, not a fault of ours: 409, saying why.
          Answer.error(
              HttpResponseStatus.CONFLICT,
              "nothing to reload: this proxy was started without a config file (--demo)"));
    }
    return control
        .reload("admin")
        .thenApply(
            r -> {
              if (r.invalid()) {
                return Answer.error(HttpResponseStatus.BAD_REQUEST, r.message());
              }
              return Answer.ok(r);
            });
  }

  CompletableFuture<Answer> endpointAction(
      HttpMethod method,
      ManagedPool pool,
      String id,
      String action,
      Map<String, List<String>> params) {
    if (!List.of("drain", "undrain", "maint").contains(action)) {
      return done(
          Answer.error(
              HttpResponseStatus.NOT_FOUND,
              "no action " + AdminAuth.quote(action) + "; actions: drain, undrain, maint"));
    }
    if (!method.equals(HttpMethod.POST)) {
      return done(Answer.methodNotAllowed("POST"));
    }
    if (pool.balancer().snapshot().endpoint(id).isEmpty()) {
      return done(
          Answer.error(
              HttpResponseStatus.NOT_FOUND,
              "no endpoint " + AdminAuth.quote(id) + " in pool '" + pool.name() + "'"));
    }
    switch (action) {
      case "drain" -> {
        String raw = only(params, "drain", Set.of("timeout")).get("timeout");
        Duration timeout =
            raw == null ? DEFAULT_DRAIN_TIMEOUT : duration(raw, "timeout", MAX_DRAIN_TIMEOUT);
        boolean done = pool.balancer().drain(id, timeout).isDone();
        // Answer at once: the drain proceeds; its result is in the snapshot and
        // transitions.
        return done(
            new Answer(
                HttpResponseStatus.ACCEPTED,
                Map.of(
                    "pool",
                    pool.name(),
                    "endpoint",
                    id,
                    "draining",
                    true,
                    "timeout",
                    timeout.toString(),
                    "done",
                    done),
                Map.of()));
      }
      case "undrain" -> {
        only(params, "undrain", Set.of());
        return pool.balancer()
            .undrain(id)
            .thenApply(v -> endpointAnswer(pool, id, "draining", false));
      }
      default -> {
        Map<String, String> p = only(params, "maint", Set.of("on", "reason"));
        String on = p.get("on");
        if (on == null || !(on.equals("true") || on.equals("false"))) {
          throw new BadInput("query parameter 'on' must be true or false");
        }
        String reason = p.get("reason");
        if (reason != null && (reason.isBlank() || reason.length() > MAX_REASON_LENGTH)) {
          throw new BadInput(
              "query parameter 'reason' must be 1.." + MAX_REASON_LENGTH + " characters");
        }
        boolean value = on.equals("true");
        return pool.balancer()
            .maintenance(id, value, reason == null ? "admin" : reason)
            .thenApply(v -> endpointAnswer(pool, id, "maintenance", value));
      }
    }
  }

  /** An endpoint action's answer: the pool, the endpoint and what is now true of it. */
  private static Answer endpointAnswer(ManagedPool pool, String id, String what, boolean value) {
    return Answer.ok(Map.of("pool", pool.name(), "endpoint", id, what, value));
  }

  /**
   * The parameters of a write route: only {@code known} names, each at most once.
   *
   * @throws BadInput naming an unknown or repeated parameter
   */
  static Map<String, String> only(
      Map<String, List<String>> params, String action, Set<String> known) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> p : params.entrySet()) {
      if (!known.contains(p.getKey())) {
        throw new BadInput(
            "unknown query parameter "
                + AdminAuth.quote(p.getKey())
                + " for "
                + action
                + "; known: "
                + (known.isEmpty() ? "none" : known.stream().sorted().toList()));
      }
      if (p.getValue().size() > 1) {
        throw new BadInput(
            "query parameter '" + p.getKey() + "' is given " + p.getValue().size() + " times");
      }
      out.put(p.getKey(), p.getValue().get(0));
    }
    return out;
  }

  /**
   * A duration parameter in the admin plane's one syntax, at most {@code max}.
   *
   * @throws BadInput naming {@code name} when malformed or above {@code max}
   */
  static Duration duration(String raw, String name, Duration max) {
    Matcher m = DURATION.matcher(raw);
    if (!m.matches()) {
      throw new BadInput(
          "query parameter '"
              + name
              + "': "
              + AdminAuth.quote(raw)
              + " is not a duration like 500ms, 30s, 5m or 1h (digits and a unit, no"
              + " sign)");
    }
    long n = Long.parseLong(m.group(1));
    Duration d =
        switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        };
    if (d.compareTo(max) > 0) {
      throw new BadInput(
          "query parameter '"
              + name
              + "': "
              + raw
              + " is above the maximum "
              + max.toMinutes()
              + "m");
    }
    return d;
  }

  static CompletableFuture<Answer> done(Answer a) {
    return CompletableFuture.completedFuture(a);
  }

  static CompletableFuture<Answer> read(HttpMethod method, Supplier<Object> body) {
    if (!Answer.isRead(method)) {
      return done(Answer.methodNotAllowed("GET, HEAD"));
    }
    return done(Answer.ok(body.get()));
  }
}
