package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.DrainResult;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.HealthCheck;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.SlowStart;
import io.miniloadbalancer.core.SourceHealth;
import io.miniloadbalancer.core.SourceSnapshot;
import io.miniloadbalancer.core.StrategySwitchRejectedException;
import io.miniloadbalancer.core.internal.control.ActiveHealth;
import io.miniloadbalancer.core.internal.control.Drains;
import io.miniloadbalancer.core.internal.control.Effects;
import io.miniloadbalancer.core.internal.control.Journal;
import io.miniloadbalancer.core.internal.control.Member;
import io.miniloadbalancer.core.internal.control.Membership;
import io.miniloadbalancer.core.internal.control.OutlierEjection;
import io.miniloadbalancer.core.internal.control.Penalties;
import io.miniloadbalancer.core.internal.control.Pool;
import io.miniloadbalancer.core.internal.control.SlowStartRamp;
import io.miniloadbalancer.core.internal.control.SnapshotAssembler;
import io.miniloadbalancer.core.internal.control.StrategySwitcher;
import io.miniloadbalancer.core.internal.control.TablePublisher;
import io.miniloadbalancer.core.internal.strategy.StrategyConfig;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.Scheduler;
import io.miniloadbalancer.core.spi.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The control executor's front door: every change to a balancer's state enters here and runs, in
 * order, on its control context as one step that ends by publishing the next {@link RoutingTable}
 * and then telling listeners what it fired. This class holds only that ordering; each stage's rules
 * live in its own class in {@link io.miniloadbalancer.core.internal.control}:
 *
 * <ul>
 *   <li>endpoint sets from the source: {@link Membership};
 *   <li>the endpoint state machine: {@code EndpointHealth};
 *   <li>active checks: {@link ActiveHealth}; outlier ejection: {@link OutlierEjection}; Retry-After
 *       penalties: {@link Penalties};
 *   <li>drains, maintenance and removal: {@link Drains}; slow start's clock: {@link SlowStartRamp};
 *   <li>the routing table (zones, slow-start weights, panic): {@link TablePublisher}; strategy
 *       switches: {@link StrategySwitcher};
 *   <li>introspection: {@link SnapshotAssembler}.
 * </ul>
 *
 * <p>Data-path signals ({@link EndpointRuntime.Signals}) arrive on request threads and are handed
 * to the scheduler's thread, then to the control context, never run where they were raised.
 */
public final class PoolController implements EndpointRuntime.Signals {

  /** Frozen settings. */
  public record Settings(
      String name,
      Ticker ticker,
      Clock clock,
      Scheduler scheduler,
      LongSupplier random,
      long minSwitchIntervalNanos,
      long removalDrainTimeoutNanos,
      long drainSessionQuietNanos,
      double ewmaTauNanos,
      long ewmaDefaultRttNanos,
      StrategyConfig strategyConfig,
      @Nullable HealthCheck healthCheck,
      @Nullable OutlierDetection outlierDetection,
      @Nullable SlowStart slowStart,
      int panicThresholdPercent,
      String localZone,
      int localZoneMinHealthyPercent,
      long maxPenaltyNanos,
      int logSize,
      RetryBudget retryBudget) {}

  private final Pool pool;
  private final TablePublisher publisher;
  private final Membership membership;
  private final OutlierEjection outliers;
  private final ActiveHealth activeHealth;
  private final Penalties penalties;
  private final Drains drains;
  private final SlowStartRamp ramp;
  private final StrategySwitcher switcher;
  private final SnapshotAssembler snapshots;

  /**
   * A controller with an empty pool; call {@link #start()} once. {@code sourceView} tells snapshots
   * how the endpoint source is doing; it must not throw.
   */
  public PoolController(
      Settings s,
      String initialStrategy,
      List<BalancerListener> listeners,
      Supplier<SourceSnapshot> sourceView) {
    Journal journal = new Journal(s.name(), s.ticker(), s.clock(), s.logSize(), listeners);
    pool = new Pool(s.name(), s.ticker(), s.scheduler(), s.random(), journal);
    publisher =
        new TablePublisher(
            pool,
            journal,
            initialStrategy,
            s.strategyConfig(),
            s.panicThresholdPercent(),
            s.localZone(),
            s.localZoneMinHealthyPercent());
    outliers = new OutlierEjection(pool, journal, publisher, s.outlierDetection());
    activeHealth =
        new ActiveHealth(pool, s.healthCheck(), s.outlierDetection(), publisher, outliers);
    penalties = new Penalties(pool, journal, publisher, s.maxPenaltyNanos());
    drains =
        new Drains(
            pool,
            publisher,
            activeHealth,
            s.removalDrainTimeoutNanos(),
            s.drainSessionQuietNanos());
    membership =
        new Membership(
            pool,
            journal,
            activeHealth,
            drains,
            s.slowStart(),
            s.outlierDetection(),
            new Membership.RuntimeSettings(s.ewmaTauNanos(), s.ewmaDefaultRttNanos(), this));
    ramp = new SlowStartRamp(pool, journal, publisher, s.slowStart());
    switcher = new StrategySwitcher(pool, journal, publisher, s.minSwitchIntervalNanos());
    snapshots =
        new SnapshotAssembler(
            s.name(),
            s.ticker(),
            s.clock(),
            publisher,
            switcher,
            journal,
            s.retryBudget(),
            sourceView);
    // Whatever a step changed, a ramp that started in it needs the ramp's clock running.
    pool.afterEachStep(ramp::ensureRunning);
  }

  /** Starts periodic work (outlier evaluation). */
  public void start() {
    outliers.start();
  }

  /** The published routing table: one volatile read. */
  public RoutingTable table() {
    return publisher.table();
  }

  /** The pool's name. */
  public String name() {
    return pool.name();
  }

  /** Whether panic mode is on. */
  public boolean isPanic() {
    return publisher.panic();
  }

  /**
   * Leases ended with {@code outcome} since start, over every endpoint that was ever in the pool.
   * Reads the published table's members plus the retired totals; a member removed between the two
   * reads may be counted twice or not at all for that one read, never lost for good.
   */
  public long completed(Outcome outcome) {
    long total = 0;
    for (EndpointRuntime r : publisher.table().members()) {
      total +=
          switch (outcome) {
            case SUCCESS -> r.successes();
            case FAILURE -> r.failures();
            case OVERLOADED -> r.overloaded();
            case CANCELLED -> r.cancellations();
          };
    }
    return total + pool.retired(outcome);
  }

  // ---- from the source and the operator

  /** From the endpoint source, any thread. */
  public void onEndpoints(List<Endpoint> endpoints, Map<String, SourceHealth> health) {
    List<Endpoint> copy = List.copyOf(endpoints);
    Map<String, SourceHealth> healthCopy = Map.copyOf(health);
    pool.execute(
        fx -> {
          if (!pool.closed() && membership.apply(fx, copy, healthCopy)) {
            publisher.publish(fx);
            drains.settle(fx);
          }
        });
  }

  /** Operator drain; see {@code LoadBalancer#drain}. */
  public CompletableFuture<DrainResult> drain(String id, Duration timeout) {
    return onMember(id, (fx, m, result) -> drains.drain(fx, m, result, timeout));
  }

  /** Operator undrain; see {@code LoadBalancer#undrain}. */
  public CompletableFuture<Void> undrain(String id) {
    return onMember(
        id,
        (fx, m, result) -> {
          drains.undrain(fx, m);
          result.complete(null);
        });
  }

  /** Maintenance on or off; see {@code LoadBalancer#maintenance}. */
  public CompletableFuture<Void> maintenance(String id, boolean on, String reason) {
    return onMember(
        id,
        (fx, m, result) -> {
          drains.maintenance(fx, m, on, reason);
          result.complete(null);
        });
  }

  /** See {@code LoadBalancer#switchStrategy}. */
  public CompletableFuture<BalancerSnapshot> switchStrategy(String to, String reason) {
    CompletableFuture<BalancerSnapshot> result = new CompletableFuture<>();
    pool.execute(
        fx -> {
          StrategySwitchRejectedException refused = switcher.switchTo(fx, to, reason);
          if (refused != null) {
            result.completeExceptionally(refused);
          } else {
            result.complete(snapshots.assemble());
          }
        });
    return result;
  }

  /** An operator action on one member, run on the control context. */
  @FunctionalInterface
  private interface MemberAction<T> {
    void apply(Effects fx, Member member, CompletableFuture<T> result);
  }

  /**
   * Runs {@code action} on the member {@code id} as one control step; an unknown id fails the
   * returned future with a message naming it.
   */
  private <T> CompletableFuture<T> onMember(String id, MemberAction<T> action) {
    CompletableFuture<T> result = new CompletableFuture<>();
    pool.execute(
        fx -> {
          Member m = pool.get(id);
          if (m == null) {
            result.completeExceptionally(
                new IllegalArgumentException(
                    "no endpoint '" + id + "' in pool '" + pool.name() + "'"));
            return;
          }
          action.apply(fx, m, result);
        });
    return result;
  }

  // ---- from the data path

  @Override
  public void onIdle(EndpointRuntime endpoint) {
    pool.soon(drains::settle);
  }

  @Override
  public void onConsecutiveFailures(EndpointRuntime endpoint, int consecutive) {
    pool.soon(fx -> withMember(endpoint, m -> outliers.onConsecutiveFailures(fx, m, consecutive)));
  }

  @Override
  public void onTrialResult(EndpointRuntime endpoint, boolean success) {
    pool.soon(fx -> withMember(endpoint, m -> outliers.onTrialResult(fx, m, success)));
  }

  @Override
  public void onOverloaded(EndpointRuntime endpoint, long untilNanos) {
    pool.soon(fx -> withMember(endpoint, m -> penalties.onOverloaded(fx, m, untilNanos)));
  }

  // A signal from an endpoint that has left the pool meanwhile changes nothing.
  private void withMember(EndpointRuntime endpoint, Consumer<Member> action) {
    Member m = pool.memberOf(endpoint);
    if (m != null) {
      action.accept(m);
    }
  }

  // ---- introspection and shutdown

  /** See {@code LoadBalancer#snapshot}. */
  public BalancerSnapshot snapshot() {
    return snapshots.assemble();
  }

  /** Stops timers and probes; waits for the control context to finish the current task. */
  public void close() {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Pool.Step stop =
        fx -> {
          if (!pool.closed()) {
            pool.close();
            outliers.stop();
            ramp.stop();
          }
          done.complete(null);
        };
    if (pool.inControl()) {
      // Called from a listener or a drain callback: we already hold the context.
      pool.run(stop);
    } else {
      pool.execute(stop);
      done.join();
    }
  }
}
