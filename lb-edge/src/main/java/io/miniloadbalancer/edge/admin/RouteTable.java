package io.miniloadbalancer.edge.admin;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The admin plane's route table: every route with its method and a one-line description. Requests
 * under {@code /admin} are dispatched through it, and {@code GET /admin} (also {@code GET /}) lists
 * it, so the index cannot drift from what is served.
 */
final class RouteTable {

  /** Served before the table (no token for health; the dashboard has its own session rules). */
  private static final List<AdminRoute> SERVED_BEFORE =
      List.of(
          new AdminRoute("GET", "/healthz", "liveness: 200 while the process runs", null),
          new AdminRoute(
              "GET", "/readyz", "readiness: 200 when ready, 503 starting or draining", null),
          new AdminRoute(
              "GET", "/metrics", "Prometheus text: lb_*, edge_*, jvm_*, process_*", null),
          new AdminRoute(
              "GET", "/admin/ui", "the operator dashboard (token login, session)", null));

  private final List<AdminRoute> routes = new ArrayList<>();

  RouteTable(PoolRoutes pools, Profiling profiling) {
    routes.add(
        new AdminRoute("GET", "/admin", "this index: every admin route", (m, t, v) -> index(m)));
    routes.addAll(pools.routes());
    routes.addAll(profiling.routes());
  }

  /** Dispatches {@code t} (a path under {@code /admin}) to its row, or a 404 naming the path. */
  CompletableFuture<Answer> route(HttpMethod method, Target t) {
    for (AdminRoute r : routes) {
      List<String> vars = r.match(t.segments());
      if (vars != null && r.handler() != null) {
        return r.handler().handle(method, t, vars);
      }
    }
    return PoolRoutes.done(
        Answer.error(HttpResponseStatus.NOT_FOUND, "no route " + AdminAuth.quote(t.path())));
  }

  private CompletableFuture<Answer> index(HttpMethod method) {
    return PoolRoutes.read(method, this::listing);
  }

  private Map<String, Object> listing() {
    List<Map<String, String>> rows = new ArrayList<>();
    for (List<AdminRoute> part : List.of(SERVED_BEFORE, routes)) {
      for (AdminRoute r : part) {
        Map<String, String> row = new LinkedHashMap<>();
        row.put("method", r.method());
        row.put("path", r.path());
        row.put("description", r.description());
        rows.add(row);
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("routes", rows);
    body.put(
        "auth",
        "every /admin route takes 'Authorization: Bearer <admin.token>' (none needed on a"
            + " loopback admin bind without a token); /healthz, /readyz and /metrics take none");
    return body;
  }
}
