package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.BreakerState;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.SourceSnapshot;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.internal.RetryBudget;
import io.miniloadbalancer.core.internal.RoutingTable;
import io.miniloadbalancer.core.spi.Ticker;
import java.time.Clock;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Introspection: assembles a {@link BalancerSnapshot} from the last published table and its
 * members, the logs, the retry budget and the source's view. Runs on any thread; it reads only
 * published or volatile state, so it never waits for the control context.
 */
public final class SnapshotAssembler {

  private final String name;
  private final Ticker ticker;
  private final Clock clock;
  private final TablePublisher publisher;
  private final StrategySwitcher switcher;
  private final Journal journal;
  private final RetryBudget retryBudget;
  private final Supplier<SourceSnapshot> sourceView;

  /** An assembler for one pool; {@code sourceView} must not throw. */
  public SnapshotAssembler(
      String name,
      Ticker ticker,
      Clock clock,
      TablePublisher publisher,
      StrategySwitcher switcher,
      Journal journal,
      RetryBudget retryBudget,
      Supplier<SourceSnapshot> sourceView) {
    this.name = name;
    this.ticker = ticker;
    this.clock = clock;
    this.publisher = publisher;
    this.switcher = switcher;
    this.journal = journal;
    this.retryBudget = retryBudget;
    this.sourceView = sourceView;
  }

  /** The balancer as it stands. */
  public BalancerSnapshot assemble() {
    TablePublisher.Published p = publisher.published();
    RoutingTable t = p.table();
    long now = ticker.read();
    Map<EndpointRuntime, Double> effective = new IdentityHashMap<>();
    for (int i = 0; i < t.routable().length; i++) {
      effective.put(t.routable()[i], t.weights()[i]);
    }
    List<EndpointSnapshot> endpoints = new ArrayList<>(p.members().length);
    for (Member m : p.members()) {
      endpoints.add(endpoint(m, effective.getOrDefault(m.runtime(), 0.0), now));
    }
    return new BalancerSnapshot(
        name,
        t.strategy(),
        switcher.lastSwitch(),
        publisher.panic(),
        publisher.zoneMode(),
        Math.max(0, retryBudget.available(now)),
        endpoints,
        journal.transitions(),
        journal.events(),
        sourceView.get(),
        now,
        clock.instant());
  }

  private static EndpointSnapshot endpoint(Member m, double effectiveWeight, long now) {
    EndpointRuntime r = m.runtime();
    Endpoint e = r.endpoint();
    EndpointHealth health = m.health();
    OutlierEjection.Track outlier = m.outlier;
    BreakerState breaker = health.breaker();
    long ejectionLeft =
        breaker == BreakerState.OPEN ? Math.max(0, outlier.ejectedUntilNanos() - now) : 0;
    // No Math.max here: with no penalty the deadline is Long.MIN_VALUE and the difference
    // would overflow.
    long penaltyLeft = r.penaltyUntilNanos() > now ? r.penaltyUntilNanos() - now : 0;
    return new EndpointSnapshot(
        e,
        r.state(),
        r.routable(),
        e.weight(),
        effectiveWeight,
        health.rampFactor(now),
        r.inFlight(),
        r.ewmaNanosAt(now) / 1e6,
        r.successes(),
        r.failures(),
        r.overloaded(),
        r.cancellations(),
        r.consecutiveFailures(),
        breaker,
        outlier.ejections(),
        TimeUnit.NANOSECONDS.toMillis(ejectionLeft),
        TimeUnit.NANOSECONDS.toMillis(penaltyLeft),
        m.probe.lastProbe(),
        r.lastTransition());
  }
}
