package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.SlowStart;
import io.miniloadbalancer.core.SourceHealth;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.internal.control.EndpointHealth.Hold;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the endpoint source's sets: new endpoints join (in {@code HEALTHY} unless the source or
 * the health check says otherwise), changed definitions are taken over, the source's health verdict
 * is recorded, and endpoints the set no longer lists start draining for removal. A set with a
 * duplicate id is refused whole: the last good set stays.
 */
public final class Membership {

  private static final Logger LOG = LoggerFactory.getLogger(Membership.class);

  /** What a new endpoint's data-path object is built with. */
  public record RuntimeSettings(
      double ewmaTauNanos, long ewmaDefaultRttNanos, EndpointRuntime.Signals signals) {}

  private final Pool pool;
  private final Journal journal;
  private final ActiveHealth activeHealth;
  private final Drains drains;
  private final @Nullable SlowStart slowStart;
  private final @Nullable OutlierDetection od;
  private final RuntimeSettings runtimeSettings;
  private boolean initialized;

  /** Membership of {@code pool}; new members are checked by {@code activeHealth}. */
  public Membership(
      Pool pool,
      Journal journal,
      ActiveHealth activeHealth,
      Drains drains,
      @Nullable SlowStart slowStart,
      @Nullable OutlierDetection od,
      RuntimeSettings runtimeSettings) {
    this.pool = pool;
    this.journal = journal;
    this.activeHealth = activeHealth;
    this.drains = drains;
    this.slowStart = slowStart;
    this.od = od;
    this.runtimeSettings = runtimeSettings;
  }

  /**
   * Applies one endpoint set; returns false, changing nothing, when it was refused. The caller
   * publishes and settles drains after.
   */
  public boolean apply(Effects fx, List<Endpoint> endpoints, Map<String, SourceHealth> health) {
    Map<String, Endpoint> next = new LinkedHashMap<>();
    for (Endpoint e : endpoints) {
      if (next.put(e.id(), e) != null) {
        LOG.warn(
            "pool '{}': rejected an endpoint set with duplicate id '{}'; keeping the"
                + " last good set of {} endpoints",
            pool.name(),
            e.id(),
            pool.size());
        return false;
      }
    }
    long now = pool.now();
    boolean joinedLater = initialized;
    initialized = true;
    for (Endpoint e : next.values()) {
      Member m = pool.get(e.id());
      if (m == null) {
        join(fx, e, health.get(e.id()), joinedLater, now);
      } else {
        update(fx, m, e, health.get(e.id()), now);
      }
    }
    for (Member m : pool.copy()) {
      if (!next.containsKey(m.id()) && !m.health().held(Hold.REMOVAL)) {
        drains.startRemoval(fx, m, now);
      }
    }
    return true;
  }

  private void join(
      Effects fx, Endpoint e, @Nullable SourceHealth said, boolean joinedLater, long now) {
    int consecutiveFailures = od == null ? 0 : od.consecutiveFailures();
    long slowRequestNanos = od == null ? 0 : od.slowRequestThreshold().toNanos();
    EndpointRuntime r =
        new EndpointRuntime(
            e,
            EndpointState.HEALTHY,
            runtimeSettings.ewmaTauNanos(),
            runtimeSettings.ewmaDefaultRttNanos(),
            consecutiveFailures,
            slowRequestNanos,
            now,
            runtimeSettings.signals());
    Member m = new Member(r, new EndpointHealth(r, journal, slowStart, od));
    pool.add(m);
    EndpointHealth h = m.health();
    h.source(said);
    String reason = "added by source";
    if (h.sourceHolds()) {
      reason += "; source says " + h.sourceDetail();
    }
    reason += activeHealth.admit(m, joinedLater);
    h.join(fx, reason, joinedLater, now);
    activeHealth.startProbing(m);
  }

  private void update(Effects fx, Member m, Endpoint e, @Nullable SourceHealth said, long now) {
    EndpointRuntime r = m.runtime();
    if (!r.endpoint().equals(e)) {
      LOG.debug("pool '{}': endpoint {} updated to {}", pool.name(), e.id(), e);
      r.endpoint(e);
    }
    EndpointHealth h = m.health();
    if (h.held(Hold.REMOVAL)) {
      drains.cancelRemoval(m);
      h.source(said);
      h.reconcile(fx, Transition.Cause.SOURCE, "re-added by source while draining", now);
    } else if (h.source(said)) {
      h.reconcile(fx, Transition.Cause.SOURCE, "source says " + h.sourceDetail(), now);
    }
  }
}
