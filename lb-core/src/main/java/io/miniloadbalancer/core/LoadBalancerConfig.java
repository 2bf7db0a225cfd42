package io.miniloadbalancer.core;

import io.miniloadbalancer.core.internal.PoolController;
import io.miniloadbalancer.core.internal.RetryBudget;
import io.miniloadbalancer.core.internal.strategy.StrategyConfig;
import io.miniloadbalancer.core.internal.strategy.StrategyRegistry;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.EndpointSource;
import io.miniloadbalancer.core.spi.Scheduler;
import io.miniloadbalancer.core.spi.Ticker;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * A balancer's settings, frozen by {@link LoadBalancerBuilder#build()}: the builder can change or
 * build again without touching a running balancer. Each component is documented on the builder
 * setter of the same name.
 */
record LoadBalancerConfig(
    String name,
    EndpointSource source,
    String strategy,
    StrategyRegistry strategies,
    Duration minSwitchInterval,
    Duration removalDrainTimeout,
    Duration drainSessionQuietPeriod,
    Duration ewmaDecay,
    Duration ewmaDefaultRtt,
    int hashBalanceFactor,
    int ringPointsPerEndpoint,
    int minRingSize,
    int maxRingSize,
    int maglevMinTableSize,
    int transitionLogSize,
    Ticker ticker,
    Clock clock,
    LongSupplier random,
    @Nullable Scheduler scheduler,
    @Nullable HealthCheck healthCheck,
    @Nullable OutlierDetection outlierDetection,
    @Nullable SlowStart slowStart,
    int panicThreshold,
    String localZone,
    int localZoneMinHealthyPercent,
    Duration maxPenalty,
    int retryBudgetPercent,
    int retryBudgetMinPerSecond,
    Duration retryBudgetWindow,
    List<BalancerListener> listeners) {

  LoadBalancerConfig {
    listeners = List.copyOf(listeners);
  }

  /** A copy of the builder's settings; the caller checked that a source or endpoints are set. */
  static LoadBalancerConfig freeze(LoadBalancerBuilder b) {
    EndpointSource source =
        b.source != null
            ? b.source
            : new StaticEndpointSource(java.util.Objects.requireNonNull(b.endpoints));
    return new LoadBalancerConfig(
        b.name,
        source,
        b.strategy,
        b.registry,
        b.minSwitchInterval,
        b.removalDrainTimeout,
        b.drainSessionQuietPeriod,
        b.ewmaDecay,
        b.ewmaDefaultRtt,
        b.hashBalanceFactor,
        b.ringPointsPerEndpoint,
        b.minRingSize,
        b.maxRingSize,
        b.maglevMinTableSize,
        b.transitionLogSize,
        b.ticker,
        b.clock,
        b.random,
        b.scheduler,
        b.healthCheck,
        b.outlierDetection,
        b.slowStart,
        b.panicThreshold,
        b.localZone,
        b.localZoneMinHealthyPercent,
        b.maxPenalty,
        b.retryBudgetPercent,
        b.retryBudgetMinPerSecond,
        b.retryBudgetWindow,
        b.listeners);
  }

  /** A fresh budget: each balancer built from this config has its own. */
  RetryBudget newRetryBudget() {
    return new RetryBudget(
        retryBudgetPercent / 100.0, retryBudgetMinPerSecond, retryBudgetWindow.toNanos());
  }

  /** The control side's settings, sharing the data path's counters and budget. */
  PoolController.Settings controllerSettings(
      Scheduler timers, LongAdder totalInFlight, RetryBudget budget) {
    return new PoolController.Settings(
        name,
        ticker,
        clock,
        timers,
        random,
        minSwitchInterval.toNanos(),
        removalDrainTimeout.toNanos(),
        drainSessionQuietPeriod.toNanos(),
        ewmaDecay.toNanos(),
        ewmaDefaultRtt.toNanos(),
        new StrategyConfig(
            strategies,
            random,
            totalInFlight,
            hashBalanceFactor,
            ringPointsPerEndpoint,
            minRingSize,
            maxRingSize,
            maglevMinTableSize),
        healthCheck,
        outlierDetection,
        slowStart,
        panicThreshold,
        localZone,
        localZoneMinHealthyPercent,
        maxPenalty.toNanos(),
        transitionLogSize,
        budget);
  }

  /** The source's own view, or a stand-in naming the failure: a snapshot must never throw. */
  static SourceSnapshot sourceSnapshot(EndpointSource source) {
    try {
      return source.snapshot();
    } catch (RuntimeException e) {
      return new SourceSnapshot(source.getClass().getSimpleName(), null, "snapshot failed: " + e);
    }
  }
}
