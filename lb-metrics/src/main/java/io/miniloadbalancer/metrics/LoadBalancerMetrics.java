package io.miniloadbalancer.metrics;

import static java.util.Objects.requireNonNull;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.StrategySwitch;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.LeaseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Binds one {@link LoadBalancer} to a Micrometer registry: request counters and a latency timer by
 * outcome, endpoints by state, in-flight, retries, ejections, transitions, strategy switches, the
 * current strategy and panic. Names and descriptions are in {@link MeterNames}; every meter is
 * tagged {@code pool=<balancer name>}.
 *
 * <pre>{@code
 * LoadBalancerMetrics metrics = LoadBalancerMetrics.builder(balancer).build();
 * metrics.bindTo(registry);
 * ...
 * metrics.close();   // removes its meters and hooks
 * }</pre>
 *
 * <p>Cost: per request, one timer record when the latency is known, on a timer resolved once at
 * bind time (an array lookup by outcome, no map, no allocation). Request counts are lb-core's own
 * counters, read on scrape; everything else is read on scrape or on control-side events.
 * Per-endpoint meters are off by default (their cardinality is the pool's size); when on, they are
 * capped, and an endpoint that leaves the pool takes its meter with it.
 *
 * <p>Bind to one registry; to publish to several, use a composite registry.
 */
public final class LoadBalancerMetrics implements MeterBinder, AutoCloseable {

  private final LoadBalancer balancer;
  private final boolean perEndpoint;
  private final int maxTaggedEndpoints;
  private final Tags tags;

  private final Object lock = new Object();
  private @Nullable MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();
  private final Map<String, Meter> endpointMeters = new ConcurrentHashMap<>();
  private final java.util.Set<Meter> eventMeters = new java.util.LinkedHashSet<>();
  private final java.util.concurrent.atomic.AtomicLongArray requestHighWater =
      new java.util.concurrent.atomic.AtomicLongArray(Outcome.values().length);
  private @Nullable Meter strategyMeter;
  private final @Nullable Timer[] durations = new Timer[Outcome.values().length];
  private @Nullable Counter ejections;
  private final LeaseObserver observer = this::onLeaseEnd;
  private final BalancerListener listener = new Listener();

  private LoadBalancerMetrics(Builder b) {
    this.balancer = b.balancer;
    this.perEndpoint = b.perEndpoint;
    this.maxTaggedEndpoints = b.maxTaggedEndpoints;
    this.tags = Tags.of("pool", b.balancer.name()).and(b.extraTags);
  }

  /**
   * A builder for {@code balancer}'s metrics.
   *
   * @param balancer the balancer to measure
   * @return a builder for {@code balancer}'s metrics
   */
  public static Builder builder(LoadBalancer balancer) {
    return new Builder(requireNonNull(balancer, "balancer"));
  }

  /**
   * Registers every meter and starts recording.
   *
   * @throws IllegalStateException when already bound
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    requireNonNull(registry, "registry");
    synchronized (lock) {
      if (this.registry != null) {
        throw new IllegalStateException(
            "metrics of pool '" + balancer.name() + "' are already bound to a registry");
      }
      this.registry = registry;
      // Listen before reading the pool, so no transition falls between the read and the hook.
      balancer.addListener(listener);
      for (Outcome outcome : Outcome.values()) {
        String tag = outcome.name().toLowerCase(Locale.ROOT);
        // Counted by lb-core already: read on scrape, nothing added per request. The
        // high-water
        // mark keeps the counter monotonic across the instant an endpoint's counts move
        // from the
        // pool to the retired totals.
        int index = outcome.ordinal();
        keep(
            FunctionCounter.builder(
                    MeterNames.REQUESTS,
                    balancer,
                    b -> requestHighWater.accumulateAndGet(index, b.completed(outcome), Math::max))
                .description(MeterNames.REQUESTS_DESCRIPTION)
                .tags(tags)
                .tag("outcome", tag)
                .register(registry));
        if (outcome != Outcome.CANCELLED) {
          durations[outcome.ordinal()] =
              keep(
                  Timer.builder(MeterNames.REQUEST_DURATION)
                      .description(MeterNames.REQUEST_DURATION_DESCRIPTION)
                      .tags(tags)
                      .tag("outcome", tag)
                      .register(registry));
        }
      }
      for (EndpointState state : EndpointState.values()) {
        if (state == EndpointState.REMOVED) {
          continue;
        }
        keep(
            Gauge.builder(MeterNames.ENDPOINTS, balancer, b -> b.endpointCount(state))
                .description(MeterNames.ENDPOINTS_DESCRIPTION)
                .tags(tags)
                .tag("state", state.name().toLowerCase(Locale.ROOT))
                .register(registry));
      }
      keep(
          Gauge.builder(MeterNames.IN_FLIGHT, balancer, b -> b.snapshot().totalInFlight())
              .description(MeterNames.IN_FLIGHT_DESCRIPTION)
              .tags(tags)
              .register(registry));
      keep(
          FunctionCounter.builder(MeterNames.RETRIES, balancer, LoadBalancer::retriesGranted)
              .description(MeterNames.RETRIES_DESCRIPTION)
              .tags(tags)
              .register(registry));
      keep(
          FunctionCounter.builder(
                  MeterNames.RETRIES_BUDGET_EXHAUSTED, balancer, LoadBalancer::retriesRefused)
              .description(MeterNames.RETRIES_BUDGET_EXHAUSTED_DESCRIPTION)
              .tags(tags)
              .register(registry));
      ejections =
          keep(
              Counter.builder(MeterNames.EJECTIONS)
                  .description(MeterNames.EJECTIONS_DESCRIPTION)
                  .tags(tags)
                  .register(registry));
      keep(
          Gauge.builder(MeterNames.PANIC, balancer, b -> b.isPanic() ? 1 : 0)
              .description(MeterNames.PANIC_DESCRIPTION)
              .tags(tags)
              .register(registry));
      keep(
          Gauge.builder(
                  MeterNames.DISCOVERY_STALENESS,
                  balancer,
                  b -> {
                    java.time.Duration d = b.sourceSnapshot().staleness();
                    return d == null ? Double.NaN : d.toNanos() / 1e9;
                  })
              .description(MeterNames.DISCOVERY_STALENESS_DESCRIPTION)
              .baseUnit("seconds")
              .tags(tags)
              .register(registry));
      keep(
          Gauge.builder(
                  MeterNames.DISCOVERY_PROBLEM,
                  balancer,
                  b -> b.sourceSnapshot().problem() == null ? 0 : 1)
              .description(MeterNames.DISCOVERY_PROBLEM_DESCRIPTION)
              .tags(tags)
              .register(registry));
      registerStrategy(registry, balancer.strategy());
      if (perEndpoint) {
        for (EndpointSnapshot e : balancer.snapshot().endpoints()) {
          registerEndpoint(registry, e.endpoint());
        }
      }
    }
    balancer.addLeaseObserver(observer);
  }

  private void onLeaseEnd(Endpoint endpoint, Outcome outcome, long latencyNanos) {
    Timer timer = durations[outcome.ordinal()];
    if (timer != null && latencyNanos >= 0) {
      timer.record(latencyNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void registerStrategy(MeterRegistry registry, String strategy) {
    strategyMeter =
        Gauge.builder(MeterNames.STRATEGY, () -> 1)
            .description(MeterNames.STRATEGY_DESCRIPTION)
            .tags(tags)
            .tag("strategy", strategy)
            .register(registry);
  }

  private void registerEndpoint(MeterRegistry registry, Endpoint endpoint) {
    String id = endpoint.id();
    if (endpointMeters.size() >= maxTaggedEndpoints || endpointMeters.containsKey(id)) {
      return;
    }
    endpointMeters.put(
        id,
        Gauge.builder(MeterNames.ENDPOINT_IN_FLIGHT, balancer, b -> Math.max(0, b.inFlight(id)))
            .description(MeterNames.ENDPOINT_IN_FLIGHT_DESCRIPTION)
            .tags(tags)
            .tag("endpoint", id)
            .register(registry));
  }

  private <M extends Meter> M keep(M meter) {
    meters.add(meter);
    return meter;
  }

  /** Stops recording and removes every meter this binder registered. */
  @Override
  public void close() {
    balancer.removeLeaseObserver(observer);
    balancer.removeListener(listener);
    synchronized (lock) {
      MeterRegistry r = registry;
      if (r == null) {
        return;
      }
      meters.forEach(r::remove);
      eventMeters.forEach(r::remove);
      endpointMeters.values().forEach(r::remove);
      if (strategyMeter != null) {
        r.remove(strategyMeter);
      }
      meters.clear();
      eventMeters.clear();
      endpointMeters.clear();
      registry = null;
    }
  }

  /** Turns control-side events into meters; runs on the balancer's control context. */
  private final class Listener implements BalancerListener {

    @Override
    public void onTransition(Transition t) {
      synchronized (lock) {
        MeterRegistry r = registry;
        if (r == null) {
          return;
        }
        Counter transitions =
            Counter.builder(MeterNames.TRANSITIONS)
                .description(MeterNames.TRANSITIONS_DESCRIPTION)
                .tags(tags)
                .tags(
                    List.of(
                        Tag.of("from", t.from() == null ? "none" : lower(t.from())),
                        Tag.of("to", lower(t.to())),
                        Tag.of("cause", t.cause().name().toLowerCase(Locale.ROOT))))
                .register(r);
        eventMeters.add(transitions);
        transitions.increment();
        if (t.to() == EndpointState.EJECTED && ejections != null) {
          ejections.increment();
        }
        if (perEndpoint) {
          if (t.to() == EndpointState.REMOVED) {
            Meter m = endpointMeters.remove(t.endpointId());
            if (m != null) {
              r.remove(m);
            }
          } else if (t.from() == null) {
            balancer
                .snapshot()
                .endpoint(t.endpointId())
                .ifPresent(e -> registerEndpoint(r, e.endpoint()));
          }
        }
      }
    }

    @Override
    public void onStrategySwitch(StrategySwitch s) {
      synchronized (lock) {
        MeterRegistry r = registry;
        if (r == null) {
          return;
        }
        Counter switches =
            Counter.builder(MeterNames.STRATEGY_SWITCHES)
                .description(MeterNames.STRATEGY_SWITCHES_DESCRIPTION)
                .tags(tags)
                .tag("from", s.from())
                .tag("to", s.to())
                .register(r);
        eventMeters.add(switches);
        switches.increment();
        if (strategyMeter != null) {
          r.remove(strategyMeter);
        }
        registerStrategy(r, s.to());
      }
    }

    private String lower(EndpointState state) {
      return state.name().toLowerCase(Locale.ROOT);
    }
  }

  /** Configures {@link LoadBalancerMetrics}. */
  public static final class Builder {

    private final LoadBalancer balancer;
    private boolean perEndpoint;
    private int maxTaggedEndpoints = 100;
    private Tags extraTags = Tags.empty();

    private Builder(LoadBalancer balancer) {
      this.balancer = balancer;
    }

    /**
     * Whether to register per-endpoint in-flight gauges (tag {@code endpoint}). Default false: a
     * pool's size is unbounded cardinality for a metrics backend.
     *
     * @param on whether to register per-endpoint in-flight gauges (tag {@code endpoint})
     * @return this builder
     */
    public Builder perEndpoint(boolean on) {
      this.perEndpoint = on;
      return this;
    }

    /**
     * The most endpoints that get their own gauge. Default 100; the rest are not tagged.
     *
     * @param max the most endpoints that get their own gauge
     * @return this builder
     */
    public Builder maxTaggedEndpoints(int max) {
      if (max < 0) {
        throw new IllegalArgumentException("maxTaggedEndpoints must be >= 0, was " + max);
      }
      this.maxTaggedEndpoints = max;
      return this;
    }

    /**
     * Tags added to every meter (for example {@code service=checkout}).
     *
     * @param extra tags added to every meter (for example {@code service=checkout})
     * @return this builder
     */
    public Builder tags(Iterable<Tag> extra) {
      this.extraTags = Tags.of(requireNonNull(extra, "extra"));
      return this;
    }

    /**
     * A binder; call {@link LoadBalancerMetrics#bindTo} to start.
     *
     * @return a binder; call {@link LoadBalancerMetrics#bindTo} to start
     */
    public LoadBalancerMetrics build() {
      return new LoadBalancerMetrics(this);
    }
  }
}
