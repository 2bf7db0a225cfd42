package io.miniloadbalancer.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.RetryPolicy;
import io.miniloadbalancer.core.RetryResult;
import io.miniloadbalancer.core.StaticEndpointSource;
import io.miniloadbalancer.core.Strategies;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

class LoadBalancerMetricsTest {

  private final StaticEndpointSource source =
      new StaticEndpointSource(
          List.of(
              Endpoint.of("a", "127.0.0.1", 9001),
              Endpoint.of("b", "127.0.0.1", 9002),
              Endpoint.of("c", "127.0.0.1", 9003)));

  private LoadBalancer balancer() {
    return LoadBalancer.builder()
        .name("orders")
        .source(source)
        .minSwitchInterval(Duration.ZERO)
        .outlierDetection(
            OutlierDetection.builder().maxEjectionPercent(50).ejectionJitter(0).build())
        .build();
  }

  /** Picks, failures, an ejection, a drain, a switch, a retry: then every meter says so. */
  private void script(LoadBalancer lb) {
    for (int i = 0; i < 30; i++) {
      Lease lease = lb.acquire(RequestContext.none());
      lease.complete(io.miniloadbalancer.core.Outcome.SUCCESS, TimeUnit.MILLISECONDS.toNanos(5));
    }
    lb.acquire(RequestContext.none()).close();
    int failed = 0;
    while (failed < 5) {
      Lease lease = lb.acquire(RequestContext.none());
      if (lease.endpoint().id().equals("c")) {
        lease.failure();
        failed++;
      } else {
        lease.close();
      }
    }
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> lb.snapshot().endpoint("c").orElseThrow().breaker().name().equals("OPEN"));
    lb.drain("b", Duration.ofSeconds(1)).join();
    lb.switchStrategy(Strategies.P2C_EWMA, "test").join();
    RetryResult<String> r =
        lb.retries(RetryPolicy.defaults().withBackoff(Duration.ZERO, Duration.ZERO))
            .execute(
                RequestContext.none(),
                true,
                v -> true,
                lease -> {
                  lease.failure();
                  return "503";
                });
    assertThat(r.failed()).isTrue();
  }

  @Test
  void everyMeterReflectsAScriptedSequence() {
    LoadBalancer lb = balancer();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    LoadBalancerMetrics metrics = LoadBalancerMetrics.builder(lb).perEndpoint(true).build();
    metrics.bindTo(registry);
    Lease held = lb.acquire(RequestContext.none());
    String heldOn = held.endpoint().id();

    script(lb);

    assertThat(counter(registry, MeterNames.REQUESTS, "outcome", "success")).isEqualTo(30);
    assertThat(counter(registry, MeterNames.REQUESTS, "outcome", "cancelled"))
        .isGreaterThanOrEqualTo(1);
    // 5 failures on c, plus the retried request's attempts (the only endpoint left: one
    // attempt).
    assertThat(counter(registry, MeterNames.REQUESTS, "outcome", "failure"))
        .isGreaterThanOrEqualTo(6);
    var timer =
        registry
            .get(MeterNames.REQUEST_DURATION)
            .tag("outcome", "success")
            .tag("pool", "orders")
            .timer();
    assertThat(timer.count()).isEqualTo(30);
    assertThat(timer.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(150.0);
    assertThat(gauge(registry, MeterNames.ENDPOINTS, "state", "ejected")).isEqualTo(1);
    assertThat(gauge(registry, MeterNames.ENDPOINTS, "state", "draining")).isEqualTo(1);
    assertThat(gauge(registry, MeterNames.ENDPOINTS, "state", "healthy")).isEqualTo(1);
    assertThat(registry.get(MeterNames.EJECTIONS).counter().count()).isEqualTo(1);
    assertThat(
            registry
                .get(MeterNames.TRANSITIONS)
                .tags("from", "healthy", "to", "ejected", "cause", "outlier")
                .counter()
                .count())
        .isEqualTo(1);
    assertThat(
            registry
                .get(MeterNames.TRANSITIONS)
                .tags("from", "healthy", "to", "draining", "cause", "operator")
                .counter()
                .count())
        .isEqualTo(1);
    assertThat(
            registry
                .get(MeterNames.STRATEGY_SWITCHES)
                .tags("from", "round-robin", "to", "p2c-ewma")
                .counter()
                .count())
        .isEqualTo(1);
    assertThat(registry.find(MeterNames.STRATEGY).tag("strategy", "round-robin").gauge()).isNull();
    assertThat(registry.get(MeterNames.STRATEGY).tag("strategy", "p2c-ewma").gauge().value())
        .isEqualTo(1);
    assertThat(registry.get(MeterNames.PANIC).gauge().value()).isZero();
    assertThat(registry.get(MeterNames.IN_FLIGHT).gauge().value()).isEqualTo(1);
    assertThat(gauge(registry, MeterNames.ENDPOINT_IN_FLIGHT, "endpoint", heldOn)).isEqualTo(1);
    // The retry found no untried healthy endpoint besides the first, or was granted one retry.
    assertThat(
            registry.get(MeterNames.RETRIES).functionCounter().count()
                + registry.get(MeterNames.RETRIES_BUDGET_EXHAUSTED).functionCounter().count())
        .isLessThanOrEqualTo(1);
    held.success();
    assertThat(registry.get(MeterNames.IN_FLIGHT).gauge().value()).isZero();
  }

  @Test
  void discoveryStalenessAndProblemFollowTheSource() {
    java.util.concurrent.atomic.AtomicReference<io.miniloadbalancer.core.SourceSnapshot> view =
        new java.util.concurrent.atomic.AtomicReference<>(
            new io.miniloadbalancer.core.SourceSnapshot("registry", Duration.ofSeconds(3), null));
    LoadBalancer lb =
        LoadBalancer.builder()
            .source(
                new io.miniloadbalancer.core.spi.EndpointSource() {
                  @Override
                  public void start(Listener listener) {
                    listener.onEndpoints(List.of(Endpoint.of("a", "127.0.0.1", 1)));
                  }

                  @Override
                  public io.miniloadbalancer.core.SourceSnapshot snapshot() {
                    return view.get();
                  }
                })
            .build();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    LoadBalancerMetrics.builder(lb).build().bindTo(registry);
    assertThat(registry.get(MeterNames.DISCOVERY_STALENESS).gauge().value()).isEqualTo(3.0);
    assertThat(registry.get(MeterNames.DISCOVERY_PROBLEM).gauge().value()).isZero();
    view.set(
        new io.miniloadbalancer.core.SourceSnapshot(
            "registry", Duration.ofSeconds(95), "unreachable"));
    assertThat(registry.get(MeterNames.DISCOVERY_STALENESS).gauge().value()).isEqualTo(95.0);
    assertThat(registry.get(MeterNames.DISCOVERY_PROBLEM).gauge().value()).isEqualTo(1.0);
    SimpleMeterRegistry staticRegistry = new SimpleMeterRegistry();
    LoadBalancerMetrics.builder(balancer()).build().bindTo(staticRegistry);
    assertThat(staticRegistry.get(MeterNames.DISCOVERY_STALENESS).gauge().value()).isNaN();
  }

  @Test
  void retriesAndBudgetExhaustionAreCounted() {
    LoadBalancer lb =
        LoadBalancer.builder()
            .name("orders")
            .endpoints(
                Endpoint.of("a", "127.0.0.1", 9001),
                Endpoint.of("b", "127.0.0.1", 9002),
                Endpoint.of("c", "127.0.0.1", 9003))
            .retryBudget(0, 1, Duration.ofSeconds(1))
            .build();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    LoadBalancerMetrics.builder(lb).build().bindTo(registry);
    var retries = lb.retries(RetryPolicy.defaults().withBackoff(Duration.ZERO, Duration.ZERO));
    for (int i = 0; i < 3; i++) {
      retries.execute(
          RequestContext.none(),
          true,
          v -> true,
          lease -> {
            lease.failure();
            return "503";
          });
    }
    assertThat(registry.get(MeterNames.RETRIES).functionCounter().count()).isEqualTo(1);
    assertThat(registry.get(MeterNames.RETRIES_BUDGET_EXHAUSTED).functionCounter().count())
        .isEqualTo(2);
  }

  @Test
  void prometheusShowsTheExpectedSeriesAndRemovedEndpointsLeaveNoSeries() {
    LoadBalancer lb = balancer();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    LoadBalancerMetrics.builder(lb).perEndpoint(true).build().bindTo(registry);
    script(lb);

    String text = registry.scrape();
    assertThat(text)
        .contains("lb_requests_total{outcome=\"success\",pool=\"orders\"} 30.0")
        .contains("lb_request_duration_seconds_count{outcome=\"success\",pool=\"orders\"} 30")
        .contains("lb_endpoints{pool=\"orders\",state=\"ejected\"} 1.0")
        .contains("lb_ejections_total{pool=\"orders\"} 1.0")
        .contains(
            "lb_transitions_total{cause=\"outlier\",from=\"healthy\",pool=\"orders\",to=\"ejected\"}"
                + " 1.0")
        .contains(
            "lb_strategy_switches_total{from=\"round-robin\",pool=\"orders\",to=\"p2c-ewma\"}"
                + " 1.0")
        .contains("lb_strategy{pool=\"orders\",strategy=\"p2c-ewma\"} 1.0")
        .contains("lb_panic{pool=\"orders\"} 0.0")
        .contains("lb_retries_total{pool=\"orders\"}")
        .contains("lb_retries_budget_exhausted_total{pool=\"orders\"}")
        .contains("lb_endpoint_in_flight{endpoint=\"b\",pool=\"orders\"} 0.0")
        .doesNotContain("strategy=\"round-robin\"} 1.0");

    double successesBefore =
        registry.get(MeterNames.REQUESTS).tag("outcome", "success").functionCounter().count();
    source.remove("b");
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> lb.snapshot().endpoint("b").isEmpty());
    assertThat(registry.scrape()).doesNotContain("endpoint=\"b\"");
    // The removed endpoint's requests stay counted: the counter never goes backwards.
    assertThat(
            registry.get(MeterNames.REQUESTS).tag("outcome", "success").functionCounter().count())
        .isEqualTo(successesBefore);
  }

  @Test
  void perEndpointMetersAreOptInAndCapped() {
    LoadBalancer lb = balancer();
    SimpleMeterRegistry off = new SimpleMeterRegistry();
    LoadBalancerMetrics.builder(lb).build().bindTo(off);
    assertThat(off.find(MeterNames.ENDPOINT_IN_FLIGHT).gauges()).isEmpty();

    SimpleMeterRegistry capped = new SimpleMeterRegistry();
    LoadBalancerMetrics.builder(lb).perEndpoint(true).maxTaggedEndpoints(2).build().bindTo(capped);
    assertThat(capped.find(MeterNames.ENDPOINT_IN_FLIGHT).gauges()).hasSize(2);
  }

  @Test
  void closeRemovesEveryMeterAndStopsRecording() {
    LoadBalancer lb = balancer();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    LoadBalancerMetrics metrics = LoadBalancerMetrics.builder(lb).perEndpoint(true).build();
    metrics.bindTo(registry);
    lb.acquire(RequestContext.none()).success();
    source.remove("c"); // a transition meter
    lb.switchStrategy(Strategies.RANDOM).join(); // a switch meter
    List<Meter> before = new ArrayList<>(registry.getMeters());
    assertThat(before)
        .extracting(m -> m.getId().getName())
        .contains(MeterNames.TRANSITIONS, MeterNames.STRATEGY_SWITCHES);
    metrics.close();
    assertThat(registry.getMeters()).isEmpty();
    lb.acquire(RequestContext.none()).success();
    assertThat(registry.getMeters()).isEmpty();
  }

  private static double counter(MeterRegistry r, String name, String key, String value) {
    return r.get(name).tag(key, value).tag("pool", "orders").functionCounter().count();
  }

  private static double gauge(MeterRegistry r, String name, String key, String value) {
    return r.get(name).tag(key, value).tag("pool", "orders").gauge().value();
  }
}
