package io.miniloadbalancer.spring;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Edge Balancer's properties, under {@code edge-balancer}: one entry under {@code pools} per
 * backend pool, each becoming one {@link io.miniloadbalancer.core.LoadBalancer}.
 *
 * <pre>{@code
 * edge-balancer:
 *   pools:
 *     orders:
 *       endpoints: [{address: "10.0.0.1:8080"}, {address: "10.0.0.2:8080", weight: 2}]
 *       strategy: least-connections
 * }</pre>
 *
 * <p>A value left out takes lb-core's default (named in each key's description); a section left out
 * (health check, outlier detection, slow start, zone) is off, as in lb-core. Values are checked
 * when the pools are built, and an error names the property it is about. Immutable.
 *
 * @param pools the pools by name; the name is also the host that routed HTTP clients call ({@code
 *     http://orders/...})
 * @param consul the Consul agent that pools with a {@code consul} section watch (needs lb-consul on
 *     the class path), and this application's own registration
 * @param shutdown what happens to the pools when the application context closes
 * @param springCloudBridge whether Spring Cloud LoadBalancer clients ({@code @LoadBalanced}) whose
 *     service id is a pool's name use that pool (when spring-cloud-loadbalancer is on the class
 *     path)
 */
@ConfigurationProperties("edge-balancer")
public record EdgeBalancerProperties(
    Map<String, Pool> pools,
    @DefaultValue Consul consul,
    @DefaultValue Shutdown shutdown,
    @DefaultValue("true") boolean springCloudBridge) {

  /**
   * Copies the map, keeping the configuration's order.
   *
   * @param pools the pools by name
   * @param consul the Consul agent and registration
   * @param shutdown shutdown behaviour
   * @param springCloudBridge whether the Spring Cloud LoadBalancer bridge is on
   */
  public EdgeBalancerProperties {
    pools =
        pools == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(pools));
  }

  /**
   * One backend pool: its endpoints (a static list or a Consul service), its strategy and its
   * health and retry settings.
   *
   * @param endpoints a static list of endpoints; exactly one of this and {@code consul}
   * @param consul a Consul service to discover endpoints from; exactly one of this and {@code
   *     endpoints}
   * @param strategy round-robin, random, least-connections, least-connections-p2c, p2c-ewma,
   *     ring-hash or maglev
   * @param healthCheck active health checks; off when left out
   * @param outlierDetection passive outlier detection (ejections); off when left out
   * @param slowStart how long a joining or recovering endpoint ramps up its weight (linear, from
   *     10%); off when left out
   * @param panicThreshold below this share of healthy endpoints (percent), traffic spreads over all
   *     of them; lb-core's default is 50, 0 turns panic mode off
   * @param zone zone-aware routing; off when left out
   * @param retry retries of idempotent requests, and the pool's retry budget
   * @param hashKeyHeader the request header whose value is the hash key for ring-hash and maglev
   */
  public record Pool(
      List<StaticEndpoint> endpoints,
      @Nullable ConsulService consul,
      @DefaultValue("round-robin") String strategy,
      @Nullable HealthCheck healthCheck,
      @Nullable OutlierDetection outlierDetection,
      @Nullable Duration slowStart,
      @Nullable Integer panicThreshold,
      @Nullable Zone zone,
      @DefaultValue Retry retry,
      @Nullable String hashKeyHeader) {

    /**
     * Copies the list.
     *
     * @param endpoints the static endpoints
     * @param consul the Consul service
     * @param strategy the strategy's name
     * @param healthCheck active health checks
     * @param outlierDetection passive outlier detection
     * @param slowStart the slow-start window
     * @param panicThreshold the panic threshold in percent
     * @param zone zone-aware routing
     * @param retry retries and the retry budget
     * @param hashKeyHeader the hash key header
     */
    public Pool {
      endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
    }
  }

  /**
   * One static endpoint.
   *
   * @param id a stable id, unique in the pool; the address when left out
   * @param address host:port
   * @param weight relative share of traffic, 1 to 1000000
   * @param zone the endpoint's availability zone (for zone-aware routing)
   * @param metadata free-form key/value pairs, shown in the snapshot
   */
  public record StaticEndpoint(
      @Nullable String id,
      @Nullable String address,
      @DefaultValue("1") int weight,
      @DefaultValue("") String zone,
      Map<String, String> metadata) {

    /**
     * Copies the map.
     *
     * @param id the endpoint's id
     * @param address host:port
     * @param weight its weight
     * @param zone its zone
     * @param metadata its metadata
     */
    public StaticEndpoint {
      metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }
  }

  /**
   * The Consul service a pool discovers its endpoints from.
   *
   * @param service the Consul service name
   * @param tags only instances carrying all of these tags
   * @param datacenter the datacenter to query; the agent's own when left out
   */
  public record ConsulService(String service, List<String> tags, @Nullable String datacenter) {

    /**
     * Copies the list.
     *
     * @param service the service name
     * @param tags required tags
     * @param datacenter the datacenter
     */
    public ConsulService {
      tags = tags == null ? List.of() : List.copyOf(tags);
    }
  }

  /**
   * Active health checks. Values left out take lb-core's defaults (interval 5 s, fast interval 1 s,
   * down interval 10 s, timeout 1 s, rise 2, fall 3).
   *
   * @param type tcp (connect) or http (a GET of {@code path}, 2xx is healthy)
   * @param path the path the http probe requests
   * @param interval time between probes of a healthy endpoint
   * @param fastInterval time between probes while an endpoint is changing state
   * @param downInterval time between probes of an unhealthy endpoint
   * @param timeout how long a probe may take
   * @param rise successes in a row that bring an endpoint back
   * @param fall failures in a row that take an endpoint down
   * @param newEndpointsWaitForProbe whether a new endpoint waits for its first probe before it
   *     takes traffic
   */
  public record HealthCheck(
      @DefaultValue("tcp") ProbeType type,
      @DefaultValue("/health") String path,
      @Nullable Duration interval,
      @Nullable Duration fastInterval,
      @Nullable Duration downInterval,
      @DefaultValue("1s") Duration timeout,
      @Nullable Integer rise,
      @Nullable Integer fall,
      @Nullable Boolean newEndpointsWaitForProbe) {}

  /** The kind of active health probe. */
  public enum ProbeType {
    /** A TCP connect. */
    TCP,
    /** An HTTP GET; a 2xx answer is healthy. */
    HTTP
  }

  /**
   * Passive outlier detection. Values left out take lb-core's defaults (Envoy's and gRPC's).
   *
   * @param consecutiveFailures failures in a row that eject an endpoint
   * @param failureRate the failure share (0..1) over an interval that ejects an endpoint
   * @param minRequests requests in an interval before the failure rate counts
   * @param interval the window the failure rate is measured over
   * @param baseEjectionTime the first ejection's length (it grows with each ejection)
   * @param maxEjectionTime the longest ejection
   * @param maxEjectionPercent the most endpoints (percent) ejected at once
   * @param dryRun log ejections without making them
   */
  public record OutlierDetection(
      @Nullable Integer consecutiveFailures,
      @Nullable Double failureRate,
      @Nullable Integer minRequests,
      @Nullable Duration interval,
      @Nullable Duration baseEjectionTime,
      @Nullable Duration maxEjectionTime,
      @Nullable Integer maxEjectionPercent,
      @Nullable Boolean dryRun) {}

  /**
   * Zone-aware routing.
   *
   * @param local the zone this application runs in
   * @param minHealthyPercent the share of local endpoints that must be routable to stay local
   */
  public record Zone(String local, @DefaultValue("70") int minHealthyPercent) {}

  /**
   * Retries of idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE, TRACE, or with an {@code
   * Idempotency-Key}), each on an endpoint not yet tried, and the pool's retry budget.
   *
   * @param maxRetries retries per request; 0 turns retries off
   * @param backoffBase the first retry's backoff bound (full jitter)
   * @param backoffCap the largest backoff bound
   * @param budgetPercent retries allowed, in percent of requests over the budget window
   * @param budgetMinPerSecond retries allowed per second on top of that
   * @param budgetWindow the window requests and retries are counted over
   */
  public record Retry(
      @DefaultValue("1") int maxRetries,
      @DefaultValue("25ms") Duration backoffBase,
      @DefaultValue("250ms") Duration backoffCap,
      @DefaultValue("20") int budgetPercent,
      @DefaultValue("10") int budgetMinPerSecond,
      @DefaultValue("10s") Duration budgetWindow) {}

  /**
   * The Consul agent, and this application's registration in it.
   *
   * @param agent the agent's URL
   * @param aclToken the ACL token, when the agent needs one
   * @param registration this application's own registration
   */
  public record Consul(
      @DefaultValue("http://127.0.0.1:8500") String agent,
      @Nullable String aclToken,
      @DefaultValue Registration registration) {}

  /**
   * This application's registration in Consul: registered once the web server listens, put in
   * maintenance first on shutdown (so peers drain it), then deregistered.
   *
   * @param enabled whether to register
   * @param service the service name; spring.application.name when left out
   * @param tags tags to register with
   * @param healthPath the path of the HTTP check Consul runs against this application
   * @param checkInterval how often Consul runs the check
   * @param drainWait how long the instance stays in maintenance before it deregisters
   */
  public record Registration(
      @DefaultValue("false") boolean enabled,
      @Nullable String service,
      List<String> tags,
      @DefaultValue("/actuator/health") String healthPath,
      @DefaultValue("10s") Duration checkInterval,
      @DefaultValue("5s") Duration drainWait) {

    /**
     * Copies the list.
     *
     * @param enabled whether to register
     * @param service the service name
     * @param tags the tags
     * @param healthPath the check's path
     * @param checkInterval the check's interval
     * @param drainWait the maintenance wait
     */
    public Registration {
      tags = tags == null ? List.of() : List.copyOf(tags);
    }
  }

  /**
   * What happens to the pools when the application context closes.
   *
   * @param drainTimeout how long the pools' in-flight requests may take to finish once the
   *     application stops taking requests, before the pools close
   */
  public record Shutdown(@DefaultValue("10s") Duration drainTimeout) {}
}
