package io.miniloadbalancer.edge.admin;

import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.http.Readiness;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * What every admin connection shares, built once by {@link AdminPlane}: who may come in, the pools
 * view, the recent error rates, the few facts of the process the plane shows, and the profiler (one
 * recording at a time across connections).
 */
record AdminParts(
    AdminAuth auth,
    Map<String, ManagedPool> pools,
    RecentErrorRates errorRates,
    EdgeConfig config,
    Supplier<Map<String, Object>> environment,
    Supplier<String> metrics,
    Readiness readiness,
    AtomicReference<ConfigControl> control,
    Profiling profiling) {

  /** The configuration running now: the last reloaded, else the one the plane started with. */
  EdgeConfig currentConfig() {
    ConfigControl c = control.get();
    return c != null ? c.current() : config;
  }
}
