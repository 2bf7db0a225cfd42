package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.PoolEvent;
import io.miniloadbalancer.core.Strategies;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.internal.RoutingTable;
import io.miniloadbalancer.core.internal.strategy.StrategyConfig;
import io.miniloadbalancer.core.internal.strategy.StrategyRegistry;
import io.miniloadbalancer.core.strategy.Picker;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds and publishes the routing table: the last step of every control change, and the only
 * writer of what the data path reads.
 *
 * <p>Only {@code HEALTHY} endpoints are routable, minus those under a Retry-After penalty (except
 * for {@code p2c-ewma}, which prices the penalty in) and, with zone preference, minus other zones
 * while the local zone has enough healthy endpoints. Safety floors sit above: when fewer than the
 * panic threshold of the endpoints that are not drained or in maintenance are healthy, every one of
 * those is routable (panic), because routing to possibly-bad endpoints beats concentrating all
 * traffic on the few left. Weights are the configured weight times the slow-start factor.
 *
 * <p>Endpoints entering rotation are flagged routable before the table is published, those leaving
 * after, so a data-path thread that re-checks the flag never starts a lease on an endpoint that
 * left (see {@link EndpointRuntime}).
 */
public final class TablePublisher {

  /** What snapshots read: a table and the members it was built from, index-aligned. */
  record Published(RoutingTable table, Member[] members) {}

  private static final Member[] NO_MEMBERS = new Member[0];

  private final Pool pool;
  private final Journal journal;
  private final ZonePreference zones;
  private final int panicThresholdPercent;
  private final StrategyConfig strategyConfig;

  private String strategy;
  private volatile RoutingTable table;
  private volatile Published published;
  private volatile boolean panic;

  /** A publisher whose first table is empty. */
  public TablePublisher(
      Pool pool,
      Journal journal,
      String initialStrategy,
      StrategyConfig strategyConfig,
      int panicThresholdPercent,
      String localZone,
      int localZoneMinHealthyPercent) {
    this.pool = pool;
    this.journal = journal;
    this.zones = new ZonePreference(localZone, localZoneMinHealthyPercent, journal);
    this.panicThresholdPercent = panicThresholdPercent;
    this.strategyConfig = strategyConfig;
    this.strategy = initialStrategy;
    EndpointRuntime[] none = new EndpointRuntime[0];
    this.table =
        new RoutingTable(
            initialStrategy, Picker.EMPTY, none, new double[0], none, noEndpoint(none));
    this.published = new Published(table, NO_MEMBERS);
  }

  /** The published routing table: one volatile read, for the data path. */
  public RoutingTable table() {
    return table;
  }

  /** The published table with its members, for snapshots. */
  Published published() {
    return published;
  }

  /** Whether panic mode is on; any thread. */
  public boolean panic() {
    return panic;
  }

  /** The zone decision, in words; any thread. */
  String zoneMode() {
    return zones.mode();
  }

  /** The strategy the next table is built with; control context. */
  String strategy() {
    return strategy;
  }

  /** Builds the next tables with {@code name}; takes effect at the next {@link #publish}. */
  void strategy(String name) {
    this.strategy = name;
  }

  /** Builds the routing table from the pool as it stands and publishes it. */
  public void publish(Effects fx) {
    long now = pool.now();
    List<Member> eligible = new ArrayList<>();
    List<Member> healthy = new ArrayList<>();
    for (Member m : pool.members()) {
      EndpointState state = m.state();
      if (state != EndpointState.DRAINING && state != EndpointState.MAINT) {
        eligible.add(m);
        if (state == EndpointState.HEALTHY) {
          healthy.add(m);
        }
      }
    }
    boolean panicNow = panicFloor(fx, eligible.size(), healthy.size());
    List<Member> candidates = withoutPenalized(panicNow ? eligible : healthy, now);
    candidates = zones.prefer(fx, candidates, eligible, panicNow);

    EndpointRuntime[] routable = new EndpointRuntime[candidates.size()];
    double[] configured = new double[routable.length];
    double[] effective = new double[routable.length];
    for (int i = 0; i < routable.length; i++) {
      Member m = candidates.get(i);
      routable[i] = m.runtime();
      configured[i] = routable[i].endpoint().weight();
      effective[i] = configured[i] * m.health().rampFactor(now);
    }
    Member[] all = pool.members().toArray(NO_MEMBERS);
    EndpointRuntime[] members = new EndpointRuntime[all.length];
    for (int i = 0; i < all.length; i++) {
      members[i] = all[i].runtime();
    }
    Picker picker =
        StrategyRegistry.create(strategy, routable, configured, effective, strategyConfig);
    RoutingTable next =
        new RoutingTable(strategy, picker, routable, effective, members, noEndpoint(members));
    for (Member m : all) {
      m.health().updateSessionAdmission();
    }
    swap(next, all);
  }

  /** Whether panic is on now; an event when that changes. */
  private boolean panicFloor(Effects fx, int eligible, int healthy) {
    boolean panicNow =
        panicThresholdPercent > 0
            && eligible > 0
            && healthy * 100L < (long) panicThresholdPercent * eligible;
    if (panicNow != panic) {
      panic = panicNow;
      journal.event(
          fx,
          panicNow ? PoolEvent.Kind.PANIC_ENTERED : PoolEvent.Kind.PANIC_EXITED,
          null,
          healthy
              + " of "
              + eligible
              + " endpoints healthy; panic threshold "
              + panicThresholdPercent
              + "%"
              + (panicNow ? ": spreading over all " + eligible : ""));
    }
    return panicNow;
  }

  private List<Member> withoutPenalized(List<Member> candidates, long now) {
    if (strategy.equals(Strategies.P2C_EWMA)) {
      return candidates;
    }
    List<Member> unpenalized = new ArrayList<>();
    for (Member m : candidates) {
      if (m.runtime().penaltyUntilNanos() <= now) {
        unpenalized.add(m);
      }
    }
    // Skipping penalized endpoints must not empty the table: a paused endpoint beats none.
    return unpenalized.isEmpty() ? candidates : unpenalized;
  }

  /** Publishes {@code next}, flagging entering endpoints before and leaving ones after. */
  private void swap(RoutingTable next, Member[] all) {
    RoutingTable previous = table;
    Set<EndpointRuntime> entering = Collections.newSetFromMap(new IdentityHashMap<>());
    Collections.addAll(entering, next.routable());
    for (EndpointRuntime r : next.routable()) {
      r.routable(true);
    }
    table = next;
    published = new Published(next, all);
    for (EndpointRuntime r : previous.routable()) {
      if (!entering.contains(r)) {
        r.routable(false);
      }
    }
  }

  private NoEndpointAvailableException noEndpoint(EndpointRuntime[] members) {
    String prefix = "no routable endpoint in pool '" + pool.name() + "': ";
    if (members.length == 0) {
      return new NoEndpointAvailableException(prefix + "empty");
    }
    Map<EndpointState, Integer> counts = new EnumMap<>(EndpointState.class);
    for (EndpointRuntime r : members) {
      counts.merge(r.state(), 1, Integer::sum);
    }
    StringBuilder sb = new StringBuilder();
    counts.forEach(
        (state, n) -> sb.append(sb.length() == 0 ? "" : ", ").append(n).append(' ').append(state));
    return new NoEndpointAvailableException(
        prefix + members.length + " endpoint" + (members.length == 1 ? "" : "s") + ": " + sb);
  }
}
