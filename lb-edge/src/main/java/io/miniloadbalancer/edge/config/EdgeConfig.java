package io.miniloadbalancer.edge.config;

import static io.miniloadbalancer.edge.config.ConfigChecks.atLeast;
import static io.miniloadbalancer.edge.config.ConfigChecks.checkPort;
import static io.miniloadbalancer.edge.config.ConfigChecks.nonNegative;
import static io.miniloadbalancer.edge.config.ConfigChecks.oneOf;
import static io.miniloadbalancer.edge.config.ConfigChecks.positive;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.miniloadbalancer.core.Strategies;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The proxy's configuration, as read from YAML (keys in camelCase). Every value is validated where
 * it is built, so an error names its key (and, from a file, its line). Every default is here, with
 * its reason.
 *
 * @param server the data plane listener
 * @param admin the control plane listener
 * @param upstream connections to backends
 * @param consul the Consul agent, when any pool uses Consul or the proxy registers itself
 * @param pools the backend pools, by name
 * @param routes optional path-prefix routes to pools, besides {@code /proxy/<pool>/...}
 * @param reload how the proxy notices a changed config file (besides SIGHUP and the admin route)
 * @param sticky the fleet's keys for sealed affinity cookies
 * @param accessLog the access log (one JSON line per request); on by default
 */
public record EdgeConfig(
    Server server,
    Admin admin,
    Upstream upstream,
    @Nullable Consul consul,
    Map<String, Pool> pools,
    List<Route> routes,
    @Nullable ReloadWatch reload,
    @Nullable StickyKeys sticky,
    @Nullable AccessLogSettings accessLog) {

  /** Defaults and validation. */
  public EdgeConfig {
    server =
        server != null
            ? server
            : new Server(null, null, null, null, null, null, null, null, null, null, null, null);
    admin = admin != null ? admin : new Admin(null, null, null);
    upstream = upstream != null ? upstream : new Upstream(null, null, null, null, null);
    pools = pools != null ? new LinkedHashMap<>(pools) : new LinkedHashMap<>();
    routes = routes != null ? List.copyOf(routes) : List.of();
    reload = reload != null ? reload : new ReloadWatch(null, null);
    sticky = sticky != null ? sticky : new StickyKeys(null);
    accessLog = accessLog != null ? accessLog : new AccessLogSettings(null);
    ConfigChecks.wholeConfig(admin, consul, pools, routes);
  }

  /** A copy safe to show: secrets replaced by {@code "<redacted>"}. */
  public EdgeConfig redacted() {
    Admin a = admin.redacted();
    Consul c =
        consul == null
            ? null
            : new Consul(
                consul.agent(), consul.aclToken() == null ? null : "<redacted>", consul.register());
    return new EdgeConfig(
        server, a, upstream, c, pools, routes, reload, sticky.redacted(), accessLog);
  }

  /**
   * The configuration without the reload, sticky-key and access-log sections (tests, older
   * callers).
   */
  public EdgeConfig(
      Server server,
      Admin admin,
      Upstream upstream,
      @Nullable Consul consul,
      Map<String, Pool> pools,
      List<Route> routes) {
    this(server, admin, upstream, consul, pools, routes, null, null, null);
  }

  /**
   * The data plane listener.
   *
   * @param bind address to bind; default {@code 0.0.0.0} (behind an ALB, every interface)
   * @param port default 8080; 0 binds an ephemeral port (tests)
   * @param maxHeaderBytes request line plus headers; larger gets 431. Default 16 KiB: above any
   *     browser's cookies, as Envoy's 60 KiB is generous and nginx's 8 KiB tight
   * @param maxBodyBytes request body; larger gets 413. Default 100 MiB
   * @param idleTimeout a client connection with no bytes read or written for this long is closed
   *     (slow clients included). Default 60 s, the ALB's own idle timeout
   * @param drainTimeout on SIGTERM, how long in-flight requests may take. Default 20 s, under ECS's
   *     30 s stopTimeout
   * @param workers event-loop threads (each runs its client connections and their upstream
   *     connections). Default: the number of cores, at least 2
   * @param requestHeadTimeout a request head (request line and headers) begun but not complete
   *     within this gets 408 and a close: the slowloris defence. Default 10 s: HAProxy's
   *     recommended {@code timeout http-request 10s}; nginx's {@code client_header_timeout} is 60
   *     s, which lets a slow client hold a connection six times longer
   * @param bodyIdleTimeout a request body with no bytes for this long gets 408 (or a close, once
   *     the response has begun). Default 30 s; nginx's {@code client_body_timeout} is 60 s, HAProxy
   *     has none of its own ({@code timeout client}, commonly 30 s)
   * @param maxConnectionsPerClient open connections one client address may hold; more are closed at
   *     accept, unanswered. Default 0 (no cap): behind an ALB every connection comes from a few ALB
   *     addresses, so a per-address cap would cap the ALB. Set it when clients connect directly
   *     (nginx {@code limit_conn}, HAProxy {@code sc_conn_cur} rules)
   * @param trustedProxies CIDRs of peers whose {@code X-Forwarded-For}, {@code -Proto}, {@code
   *     -Host}, {@code -Port} and {@code Forwarded} are believed (the ALB's subnets). Default none:
   *     a client's own values are replaced, never passed on, since a backend may act on them
   * @param transport {@code auto} (default), {@code io_uring}, {@code epoll} or {@code nio}. Auto
   *     takes io_uring where the kernel allows it (about 1.14x the requests per second of epoll in
   *     the proxy benchmark), else epoll (containers whose seccomp profile blocks io_uring), else
   *     NIO
   */
  public record Server(
      String bind,
      Integer port,
      Integer maxHeaderBytes,
      Long maxBodyBytes,
      Duration idleTimeout,
      Duration drainTimeout,
      Integer workers,
      Duration requestHeadTimeout,
      Duration bodyIdleTimeout,
      Integer maxConnectionsPerClient,
      List<String> trustedProxies,
      String transport) {

    /** Defaults and validation. */
    public Server {
      bind = bind != null ? bind : "0.0.0.0";
      port = port != null && port == 0 ? 0 : checkPort(port != null ? port : 8080, "server.port");
      maxHeaderBytes =
          atLeast(maxHeaderBytes != null ? maxHeaderBytes : 16_384, 1_024, "server.maxHeaderBytes");
      maxBodyBytes = maxBodyBytes != null ? maxBodyBytes : 100L * 1024 * 1024;
      if (maxBodyBytes < 0) {
        throw new IllegalArgumentException("server.maxBodyBytes must not be negative");
      }
      idleTimeout =
          positive(
              idleTimeout != null ? idleTimeout : Duration.ofSeconds(60), "server.idleTimeout");
      drainTimeout =
          nonNegative(
              drainTimeout != null ? drainTimeout : Duration.ofSeconds(20), "server.drainTimeout");
      workers =
          atLeast(
              workers != null ? workers : Math.max(2, Runtime.getRuntime().availableProcessors()),
              1,
              "server.workers");
      requestHeadTimeout =
          positive(
              requestHeadTimeout != null ? requestHeadTimeout : Duration.ofSeconds(10),
              "server.requestHeadTimeout");
      bodyIdleTimeout =
          positive(
              bodyIdleTimeout != null ? bodyIdleTimeout : Duration.ofSeconds(30),
              "server.bodyIdleTimeout");
      maxConnectionsPerClient =
          atLeast(
              maxConnectionsPerClient != null ? maxConnectionsPerClient : 0,
              0,
              "server.maxConnectionsPerClient");
      trustedProxies = trustedProxies != null ? List.copyOf(trustedProxies) : List.of();
      AddressRanges.parse(trustedProxies, "server.trustedProxies");
      transport =
          oneOf(transport, "auto", List.of("auto", "io_uring", "epoll", "nio"), "server.transport");
    }
  }

  /**
   * The control plane listener ({@code /admin/*}, {@code /metrics}, {@code /healthz}, {@code
   * /readyz}).
   *
   * @param bind default {@code 127.0.0.1}: the admin plane changes routing, so it is private unless
   *     asked otherwise
   * @param port default 9901 (Envoy's admin port)
   * @param token bearer token for {@code /admin/*}; required when {@code bind} is not loopback
   * @param allowedHosts {@code Host} values the admin listener answers besides the ones it always
   *     accepts ({@code localhost}, loopback addresses, the bound address and the address the
   *     connection arrived on, any port): each {@code name}, {@code name:port}, an IP literal or
   *     {@code [v6]:port}; a name without a port matches any port. Default none. The check stops
   *     DNS rebinding (a page on {@code evil.example} whose name is made to resolve to 127.0.0.1
   *     reaches the admin plane with {@code Host: evil.example}), so a name is only answered when
   *     the operator listed it: the names a reverse proxy, a tunnel or a Prometheus target use for
   *     this listener. {@code Origin} on changes is checked against the same list. There is no
   *     wildcard: a name the operator did not list is refused (403, naming it), as Vite's and
   *     webpack-dev-server's {@code allowedHosts} and geth's {@code --http.vhosts} refuse; nginx's
   *     {@code server_name} with a {@code default_server} that returns 444 is the same idea. The
   *     environment sets it comma-separated: {@code
   *     EDGE_ADMIN_ALLOWED_HOSTS=admin.internal,edge-1.internal:9901}
   */
  public record Admin(String bind, Integer port, String token, List<String> allowedHosts) {

    /** Defaults and validation. */
    public Admin {
      bind = bind != null ? bind : "127.0.0.1";
      port = port != null && port == 0 ? 0 : checkPort(port != null ? port : 9901, "admin.port");
      token = token != null ? token : "";
      allowedHosts = allowedHosts != null ? List.copyOf(allowedHosts) : List.of();
      ConfigChecks.allowedHosts(allowedHosts);
    }

    /** The listener without extra allowed hosts (tests, and callers that predate the list). */
    public Admin(String bind, Integer port, String token) {
      this(bind, port, token, null);
    }

    /** This section with the token replaced by {@code "<redacted>"} when set. */
    Admin redacted() {
      return new Admin(bind, port, token.isEmpty() ? "" : "<redacted>", allowedHosts);
    }
  }

  /**
   * Connections to backends.
   *
   * @param connectTimeout default 1 s: a backend on the same network connects in milliseconds; a
   *     slow connect is a dead backend, better retried elsewhere
   * @param responseTimeout time from sending a request to its response head. Default 30 s
   * @param idleTimeout a pooled keep-alive connection unused this long is closed. Default 50 s,
   *     under the common 60 s server keep-alive so the backend never closes it under us
   * @param maxConnectionsPerEndpoint pool bound per endpoint; requests beyond it wait for a
   *     connection up to connectTimeout. Default 128
   * @param maxRetries failover retries for idempotent requests without a body. Default 1
   */
  public record Upstream(
      Duration connectTimeout,
      Duration responseTimeout,
      Duration idleTimeout,
      Integer maxConnectionsPerEndpoint,
      Integer maxRetries) {

    /** Defaults and validation. */
    public Upstream {
      connectTimeout =
          positive(
              connectTimeout != null ? connectTimeout : Duration.ofSeconds(1),
              "upstream.connectTimeout");
      responseTimeout =
          positive(
              responseTimeout != null ? responseTimeout : Duration.ofSeconds(30),
              "upstream.responseTimeout");
      idleTimeout =
          positive(
              idleTimeout != null ? idleTimeout : Duration.ofSeconds(50), "upstream.idleTimeout");
      maxConnectionsPerEndpoint =
          atLeast(
              maxConnectionsPerEndpoint != null ? maxConnectionsPerEndpoint : 128,
              1,
              "upstream.maxConnectionsPerEndpoint");
      maxRetries = atLeast(maxRetries != null ? maxRetries : 1, 0, "upstream.maxRetries");
    }
  }

  /**
   * The Consul agent.
   *
   * @param agent default {@code http://127.0.0.1:8500}, the local agent
   * @param aclToken optional
   * @param register the proxy's own registration in Consul; default none
   */
  public record Consul(String agent, @Nullable String aclToken, @Nullable Register register) {

    /** Defaults. */
    public Consul {
      agent = agent != null ? agent : "http://127.0.0.1:8500";
    }
  }

  /**
   * The proxy registers itself in Consul, so services that discover it there reach it. On SIGTERM
   * the registration goes to maintenance first (watchers stop sending), then {@code drainWait}
   * later it is deregistered and the listener closes.
   *
   * @param service the service name; default {@code edge-proxy}
   * @param id the instance id; default {@code <service>-<address>-<port>}, unique per task
   * @param address the advertised address; default the ECS task IP (task metadata v4), else the
   *     agent's node address (Consul's own default)
   * @param tags optional tags
   * @param checkInterval how often the agent checks {@code /readyz} on the advertised address and
   *     proxy port. Default 10 s, Consul's usual interval
   * @param deregisterCriticalAfter an instance critical this long is removed by the agent (a task
   *     that died without deregistering). Default 1 min, Consul's minimum
   * @param drainWait on shutdown, the time between maintenance and deregistration, while the proxy
   *     still serves. Default 5 s: a few blocking-query round trips for every watcher. It adds to
   *     {@code server.drainTimeout}; together they must stay under ECS's stopTimeout
   */
  public record Register(
      String service,
      @Nullable String id,
      @Nullable String address,
      List<String> tags,
      Duration checkInterval,
      Duration deregisterCriticalAfter,
      Duration drainWait) {

    /** Defaults and validation. */
    public Register {
      service = service != null ? service : "edge-proxy";
      ConfigChecks.serviceName(service);
      tags = tags != null ? List.copyOf(tags) : List.of();
      checkInterval =
          positive(
              checkInterval != null ? checkInterval : Duration.ofSeconds(10),
              "consul.register.checkInterval");
      deregisterCriticalAfter =
          deregisterCriticalAfter != null ? deregisterCriticalAfter : Duration.ofMinutes(1);
      if (deregisterCriticalAfter.compareTo(Duration.ofMinutes(1)) < 0) {
        throw new IllegalArgumentException(
            "consul.register.deregisterCriticalAfter must be at least 1m (Consul's"
                + " minimum), was "
                + deregisterCriticalAfter);
      }
      drainWait =
          nonNegative(
              drainWait != null ? drainWait : Duration.ofSeconds(5), "consul.register.drainWait");
    }
  }

  /**
   * One pool.
   *
   * @param strategy default {@code round-robin}
   * @param endpoints static endpoints (when not from Consul)
   * @param consulService the Consul service to watch instead
   * @param consulTags only instances with these tags
   * @param hashKey where ring-hash and maglev take the key: {@code header:<name>}, {@code
   *     cookie:<name>} or {@code client-address}; default none (a random key: weighted random)
   * @param healthCheckPath active HTTP health check path; null: no active checks (Consul's checks
   *     or outlier detection only)
   * @param outlierDetection eject endpoints that fail in a row; default true
   * @param sticky the proxy's affinity cookie; default none
   * @param requestTimeout time from sending a request to this pool's backend until its response
   *     head; past it the client gets 504, the endpoint is charged a failure, the connection is
   *     closed and an idempotent request is retried on another endpoint. Default {@code
   *     upstream.responseTimeout} (30 s): well under the ALB's 60 s idle timeout, so the client
   *     gets the proxy's 504 and the endpoint is charged, instead of the ALB cutting the connection
   * @param healthCheck active health check settings (path, interval, rise, fall, ...); default
   *     lb-core's, with checks on only when a path is set here or in {@code healthCheckPath}
   * @param outlier outlier detection settings while {@code outlierDetection} is on; default
   *     lb-core's
   */
  public record Pool(
      String strategy,
      List<StaticEndpoint> endpoints,
      @Nullable String consulService,
      List<String> consulTags,
      @Nullable String hashKey,
      @Nullable String healthCheckPath,
      Boolean outlierDetection,
      @Nullable Sticky sticky,
      @Nullable Duration requestTimeout,
      @Nullable HealthCheckSettings healthCheck,
      @Nullable OutlierSettings outlier) {

    /** Defaults and validation. */
    public Pool {
      strategy = strategy != null ? strategy : Strategies.ROUND_ROBIN;
      if (!Strategies.names().contains(strategy)) {
        throw new IllegalArgumentException(
            "strategy '" + strategy + "' is unknown; known: " + Strategies.names());
      }
      endpoints = endpoints != null ? List.copyOf(endpoints) : List.of();
      consulTags = consulTags != null ? List.copyOf(consulTags) : List.of();
      if (consulService == null && endpoints.isEmpty()) {
        throw new IllegalArgumentException("a pool needs endpoints or a consulService");
      }
      if (consulService != null && !endpoints.isEmpty()) {
        throw new IllegalArgumentException("a pool takes endpoints or a consulService, not both");
      }
      ConfigChecks.hashKey(hashKey);
      if (healthCheckPath != null && !healthCheckPath.startsWith("/")) {
        throw new IllegalArgumentException("healthCheckPath must start with '/'");
      }
      outlierDetection = outlierDetection != null ? outlierDetection : Boolean.TRUE;
      ConfigChecks.healthAndOutliers(healthCheckPath, healthCheck, outlierDetection, outlier);
      if (requestTimeout != null) {
        positive(requestTimeout, "requestTimeout");
      }
    }

    /**
     * The active health check settings, or null when active checks are off (no path set).
     *
     * @return the settings, {@code healthCheckPath} folded in
     */
    public @Nullable HealthCheckSettings activeHealthCheck() {
      if (healthCheck != null && healthCheck.path() != null) {
        return healthCheck;
      }
      if (healthCheckPath == null) {
        return null;
      }
      return healthCheck == null
          ? HealthCheckSettings.ofPath(healthCheckPath)
          : new HealthCheckSettings(
              healthCheckPath,
              healthCheck.interval(),
              healthCheck.fastInterval(),
              healthCheck.downInterval(),
              healthCheck.timeout(),
              healthCheck.rise(),
              healthCheck.fall(),
              healthCheck.jitter(),
              healthCheck.newEndpointsWaitForProbe());
    }
  }

  /**
   * A pool's affinity cookie: the proxy sets it on a client's first response and keeps the client
   * on that endpoint while the endpoint is routable or draining. Present (even empty: {@code
   * sticky: {}}) turns it on.
   *
   * @param cookie the cookie's name; default {@code edge_<pool>}, so pools do not share sessions
   * @param idleTimeout a session unused this long is forgotten (its next request is balanced anew).
   *     Default 30 min, the usual web-session idle timeout and HAProxy's common stick-table expiry
   * @param maxSessions the affinity table's bound; the least recently used sessions go first.
   *     Default 100,000 (about 10 MB)
   * @param drainQuietPeriod a draining endpoint's pinned sessions keep it open until they have been
   *     quiet this long (bounded by the drain's timeout). Default 5 s: the pauses inside one
   *     interaction, not a client that has moved on
   * @param secure the cookie's Secure attribute; default: set when {@code X-Forwarded-Proto} is
   *     {@code https} (TLS ends at the ALB)
   * @param sameSite {@code Lax} (default: sent on top-level navigations, not on cross-site
   *     subrequests), {@code Strict}, or {@code None} (also on cross-site POSTs such as OAuth
   *     form_post callbacks, which otherwise arrive without it and start a new session; implies
   *     Secure)
   */
  public record Sticky(
      @Nullable String cookie,
      Duration idleTimeout,
      Integer maxSessions,
      Duration drainQuietPeriod,
      @Nullable Boolean secure,
      String sameSite) {

    /** Defaults and validation. */
    public Sticky {
      if (cookie != null && !cookie.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")) {
        throw new IllegalArgumentException(
            "sticky.cookie must be a cookie name (1-64 token characters), was '" + cookie + "'");
      }
      idleTimeout =
          positive(
              idleTimeout != null ? idleTimeout : Duration.ofMinutes(30), "sticky.idleTimeout");
      maxSessions = atLeast(maxSessions != null ? maxSessions : 100_000, 1, "sticky.maxSessions");
      drainQuietPeriod =
          nonNegative(
              drainQuietPeriod != null ? drainQuietPeriod : Duration.ofSeconds(5),
              "sticky.drainQuietPeriod");
      sameSite = sameSite != null ? sameSite : "Lax";
      if (!List.of("Lax", "Strict", "None").contains(sameSite)) {
        throw new IllegalArgumentException(
            "sticky.sameSite must be Lax, Strict or None, was '" + sameSite + "'");
      }
    }
  }

  /** A static endpoint: {@code id} defaults to {@code host:port}, {@code weight} to 1. */
  public record StaticEndpoint(
      @Nullable String id, String host, Integer port, Integer weight, @Nullable String zone) {

    /** Validation. */
    public StaticEndpoint {
      if (host == null || host.isBlank()) {
        throw new IllegalArgumentException("host is required");
      }
      if (port == null) {
        throw new IllegalArgumentException("port is required");
      }
      checkPort(port, "port");
      weight = weight != null ? weight : 1;
    }

    /** The id used in the pool. */
    @JsonIgnore
    public String effectiveId() {
      return id != null ? id : host + ":" + port;
    }
  }

  /** A path-prefix route: requests whose path starts with {@code prefix} go to {@code pool}. */
  public record Route(String prefix, String pool) {

    /** Validation. */
    public Route {
      ConfigChecks.routePrefix(prefix);
      if (pool == null) {
        throw new IllegalArgumentException("route pool is required");
      }
    }
  }

  // ---- observability (issue 20): kept apart so other sections merge without touching it
}
