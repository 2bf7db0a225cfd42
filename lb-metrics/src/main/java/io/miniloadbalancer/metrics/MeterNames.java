package io.miniloadbalancer.metrics;

/**
 * Every meter name and description lb-metrics registers, in one place: dashboards and alerts depend
 * on these names. Lowercase dots, base units (seconds); Prometheus renders {@code lb.requests} as
 * {@code lb_requests_total} and {@code lb.request.duration} as {@code
 * lb_request_duration_seconds_*}. Every meter carries the tag {@code pool}.
 */
public final class MeterNames {

  private MeterNames() {}

  /** Counter, tag {@code outcome} (success, failure, overloaded, cancelled). */
  public static final String REQUESTS = "lb.requests";

  /** Description of {@link #REQUESTS}. */
  public static final String REQUESTS_DESCRIPTION = "Requests (leases) ended, by outcome";

  /** Timer, tag {@code outcome} (success, failure, overloaded): time from acquire to completion. */
  public static final String REQUEST_DURATION = "lb.request.duration";

  /** Description of {@link #REQUEST_DURATION}. */
  public static final String REQUEST_DURATION_DESCRIPTION =
      "Time from acquire to completion of requests that reported a latency";

  /** Gauge, tag {@code state}: endpoints in each state. */
  public static final String ENDPOINTS = "lb.endpoints";

  /** Description of {@link #ENDPOINTS}. */
  public static final String ENDPOINTS_DESCRIPTION = "Endpoints in the pool, by state";

  /** Gauge, tag {@code endpoint} (opt-in, capped): open leases on one endpoint. */
  public static final String ENDPOINT_IN_FLIGHT = "lb.endpoint.in.flight";

  /** Description of {@link #ENDPOINT_IN_FLIGHT}. */
  public static final String ENDPOINT_IN_FLIGHT_DESCRIPTION = "Open leases on the endpoint";

  /** Gauge: open leases on the whole pool. */
  public static final String IN_FLIGHT = "lb.in.flight";

  /** Description of {@link #IN_FLIGHT}. */
  public static final String IN_FLIGHT_DESCRIPTION = "Open leases on the pool";

  /** Function counter: retries the retry budget granted. */
  public static final String RETRIES = "lb.retries";

  /** Description of {@link #RETRIES}. */
  public static final String RETRIES_DESCRIPTION =
      "Retries attempted (granted by the retry budget)";

  /** Function counter: retries the retry budget refused. */
  public static final String RETRIES_BUDGET_EXHAUSTED = "lb.retries.budget.exhausted";

  /** Description of {@link #RETRIES_BUDGET_EXHAUSTED}. */
  public static final String RETRIES_BUDGET_EXHAUSTED_DESCRIPTION =
      "Retries wanted but refused by the retry budget";

  /** Counter: endpoints ejected by outlier detection. */
  public static final String EJECTIONS = "lb.ejections";

  /** Description of {@link #EJECTIONS}. */
  public static final String EJECTIONS_DESCRIPTION = "Endpoints ejected by outlier detection";

  /** Counter, tags {@code from}, {@code to}, {@code cause}: endpoint state transitions. */
  public static final String TRANSITIONS = "lb.transitions";

  /** Description of {@link #TRANSITIONS}. */
  public static final String TRANSITIONS_DESCRIPTION = "Endpoint state transitions";

  /** Counter, tags {@code from}, {@code to}: runtime strategy switches. */
  public static final String STRATEGY_SWITCHES = "lb.strategy.switches";

  /** Description of {@link #STRATEGY_SWITCHES}. */
  public static final String STRATEGY_SWITCHES_DESCRIPTION = "Runtime strategy switches";

  /** Gauge, tag {@code strategy}: 1 for the current strategy (an info-style series). */
  public static final String STRATEGY = "lb.strategy";

  /** Description of {@link #STRATEGY}. */
  public static final String STRATEGY_DESCRIPTION = "The current strategy (value 1, tag strategy)";

  /** Gauge: 1 while panic mode is on, else 0. */
  public static final String PANIC = "lb.panic";

  /** Description of {@link #PANIC}. */
  public static final String PANIC_DESCRIPTION =
      "1 while too few endpoints are healthy and traffic spreads over all of them";

  /**
   * Gauge, seconds: the age of the endpoint source's last good answer (NaN if it never had one or
   * cannot be stale, as a static list).
   */
  public static final String DISCOVERY_STALENESS = "lb.discovery.staleness";

  /** Description of {@link #DISCOVERY_STALENESS}. */
  public static final String DISCOVERY_STALENESS_DESCRIPTION =
      "How long the endpoint source's set has not been known current (Consul: about 0 while a"
          + " blocking query is open, growing while the agent is unreachable); NaN for sources"
          + " that are never stale";

  /** Gauge: 1 while the endpoint source reports a problem (agent unreachable, a held shrink). */
  public static final String DISCOVERY_PROBLEM = "lb.discovery.problem";

  /** Description of {@link #DISCOVERY_PROBLEM}. */
  public static final String DISCOVERY_PROBLEM_DESCRIPTION =
      "1 while the endpoint source reports a problem and the balancer routes on its last good"
          + " set";
}
