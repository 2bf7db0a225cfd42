package io.miniloadbalancer.edge.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.Strategies;
import io.miniloadbalancer.edge.http.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The pools view: what the read routes show of each pool, from its balancer's snapshot. */
final class PoolViews {

  private final AdminParts parts;

  PoolViews(AdminParts parts) {
    this.parts = parts;
  }

  /**
   * The pool's snapshot, plus what the dashboard needs that a snapshot does not hold: each
   * endpoint's recent error rate and the strategies a switch may choose.
   */
  Object poolView(ManagedPool pool) {
    BalancerSnapshot s = pool.balancer().snapshot();
    ObjectNode view = Json.MAPPER.valueToTree(s);
    view.putPOJO("recentErrorRates", parts.errorRates().observe(s, s.tickerNanos()));
    view.putPOJO("strategies", Strategies.names());
    return view;
  }

  List<Map<String, Object>> poolsSummary() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ManagedPool p : parts.pools().values()) {
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
  Map<String, Object> explain(ManagedPool pool, Map<String, List<String>> params) {
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
        candidates.add(
            Map.of("id", e.id(), "effectiveWeight", e.effectiveWeight(), "inFlight", e.inFlight()));
      } else {
        skipped.add(
            Map.of(
                "id",
                e.id(),
                "state",
                e.state(),
                "why",
                e.lastTransition() == null ? "" : e.lastTransition().reason()));
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
    try (Lease lease =
        pool.balancer().acquire(key == null ? RequestContext.none() : RequestContext.ofKey(key))) {
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
}
