package io.miniloadbalancer.edge.proxy;

import io.miniloadbalancer.edge.config.EdgeConfig;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The pool lookup: a request path to a configured pool, by {@code /proxy/<pool>/<path>} or a
 * configured prefix route. Nothing in a request chooses the upstream host: only members of
 * configured pools are ever connected to.
 */
final class Router {

  /** Where a request goes: the pool, and the target to send upstream. */
  record Route(PoolRuntime pool, String upstreamUri) {}

  private final Map<String, PoolRuntime> pools;
  // Replaced whole by a config reload (after the pools it names are added).
  private volatile List<EdgeConfig.Route> routes;

  Router(Map<String, PoolRuntime> pools, List<EdgeConfig.Route> routes) {
    this.pools = pools;
    this.routes = routes;
  }

  /** Replaces the prefix routes (a config reload). */
  void routes(List<EdgeConfig.Route> next) {
    routes = List.copyOf(next);
  }

  /** The route for {@code uri} (whose decoded path is {@code path}), or null when none. */
  @Nullable Route route(String uri, String path) {
    if (path.startsWith("/proxy/")) {
      int slash = path.indexOf('/', "/proxy/".length());
      String name = slash < 0 ? path.substring(7) : path.substring(7, slash);
      PoolRuntime pool = pools.get(name);
      if (pool == null) {
        return null;
      }
      String rest = uri.substring(Math.min(uri.length(), 7 + name.length()));
      if (rest.isEmpty() || rest.charAt(0) == '?') {
        rest = "/" + rest;
      }
      return new Route(pool, rest);
    }
    for (EdgeConfig.Route r : routes) {
      if (path.startsWith(r.prefix())) {
        PoolRuntime pool = pools.get(r.pool());
        return pool == null ? null : new Route(pool, uri);
      }
    }
    return null;
  }
}
