package io.miniloadbalancer.edge;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.miniloadbalancer.consul.ConsulEndpointSource;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.HealthCheck;
import io.miniloadbalancer.core.HealthProbes;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.RetryPolicy;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.metrics.LoadBalancerMetrics;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge proxy: pools, listeners, and the ordered shutdown. Embeddable (tests start it on
 * ephemeral ports); {@link EdgeMain} runs it as a process.
 */
public final class EdgeProxy implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EdgeProxy.class);

    private final EdgeConfig config;
    private final Transport transport = Transport.best();
    private final EventLoopGroup group;
    private final UpstreamConnections connections;
    private final Map<String, PoolRuntime> pools = new LinkedHashMap<>();
    private final List<LoadBalancerMetrics> metrics = new ArrayList<>();
    private final PrometheusMeterRegistry registry =
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ChannelGroup clients = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger inFlight = new AtomicInteger();
    private final EnvironmentInfo environment;
    private final RecentErrorRates errorRates = new RecentErrorRates();
    private final ProtocolLog protocolLog = new ProtocolLog(registry);
    private final AddressRanges trustedProxies;
    private final ClientConnectionCap clientCap;
    private final AdminAuth adminAuth;
    private volatile String state = "starting";
    private volatile @Nullable SelfRegistration selfRegistration;
    private Channel proxyChannel;
    private Channel adminChannel;

    private EdgeProxy(EdgeConfig config, EnvironmentInfo environment) {
        this.config = config;
        this.environment = environment;
        int loops = config.server().workers();
        this.trustedProxies =
                AddressRanges.parse(config.server().trustedProxies(), "server.trustedProxies");
        this.clientCap = new ClientConnectionCap(config.server().maxConnectionsPerClient());
        this.adminAuth = new AdminAuth(config.admin(), java.time.Clock.systemUTC());
        this.group = transport.group(loops);
        this.connections =
                new UpstreamConnections(
                        transport,
                        config.upstream(),
                        loops,
                        config.server().maxHeaderBytes(),
                        protocolLog);
    }

    /** Builds the pools and binds both listeners; the proxy is ready when this returns. */
    public static EdgeProxy start(EdgeConfig config) throws InterruptedException {
        return start(config, EnvironmentInfo.fromEnvironment(System.getenv()));
    }

    static EdgeProxy start(EdgeConfig config, EnvironmentInfo environment)
            throws InterruptedException {
        EdgeProxy edge = new EdgeProxy(config, environment);
        try {
            edge.buildPools();
            edge.bind();
            edge.state = "ready";
            // After readiness: the agent runs the /readyz check as soon as the service is
            // registered.
            EdgeConfig.Consul consul = config.consul();
            if (consul != null && consul.register() != null) {
                edge.selfRegistration =
                        SelfRegistration.start(consul, environment, edge.proxyPort());
            }
        } catch (RuntimeException | InterruptedException e) {
            edge.close();
            throw e;
        }
        LOG.info(
                "edge proxy ready: proxy {}:{}, admin {}:{}, transport {}, pools {}",
                config.server().bind(),
                edge.proxyPort(),
                config.admin().bind(),
                edge.adminPort(),
                edge.transport.name(),
                edge.pools.keySet());
        return edge;
    }

    private void buildPools() {
        for (Map.Entry<String, EdgeConfig.Pool> e : config.pools().entrySet()) {
            String name = e.getKey();
            EdgeConfig.Pool p = e.getValue();
            var b = LoadBalancer.builder().name(name).strategy(p.strategy());
            if (p.consulService() != null) {
                ConsulEndpointSource.Builder source =
                        ConsulEndpointSource.builder(p.consulService())
                                .agent(config.consul().agent());
                if (!p.consulTags().isEmpty()) {
                    source.tags(p.consulTags().toArray(String[]::new));
                }
                if (config.consul().aclToken() != null) {
                    source.aclToken(config.consul().aclToken());
                }
                b.source(source.build());
            } else {
                List<Endpoint> endpoints = new ArrayList<>();
                for (EdgeConfig.StaticEndpoint s : p.endpoints()) {
                    endpoints.add(
                            new Endpoint(
                                    s.effectiveId(),
                                    s.host(),
                                    s.port(),
                                    s.weight(),
                                    s.zone() == null ? "" : s.zone(),
                                    Map.of()));
                }
                b.endpoints(endpoints);
            }
            if (p.healthCheckPath() != null) {
                b.healthCheck(
                        HealthCheck.builder(
                                        HealthProbes.http(
                                                p.healthCheckPath(), Duration.ofSeconds(1)))
                                .build());
            }
            if (p.outlierDetection()) {
                b.outlierDetection(OutlierDetection.defaults());
            }
            if (p.sticky() != null) {
                b.drainSessionQuietPeriod(p.sticky().drainQuietPeriod());
            }
            // Remember each endpoint's address, so its connection pools close when it leaves.
            Map<String, Endpoint> addresses = new java.util.concurrent.ConcurrentHashMap<>();
            LoadBalancer[] built = new LoadBalancer[1];
            b.listener(
                    new BalancerListener() {
                        @Override
                        public void onTransition(Transition t) {
                            if (t.to() == EndpointState.REMOVED) {
                                Endpoint gone = addresses.remove(t.endpointId());
                                if (gone != null) {
                                    connections.forget(gone.host(), gone.port());
                                }
                            } else if (built[0] != null) {
                                built[0].snapshot()
                                        .endpoint(t.endpointId())
                                        .ifPresent(es -> addresses.put(es.id(), es.endpoint()));
                            }
                        }
                    });
            LoadBalancer lb = b.build();
            built[0] = lb;
            lb.snapshot().endpoints().forEach(es -> addresses.put(es.id(), es.endpoint()));
            RetryPolicy policy =
                    RetryPolicy.defaults().withMaxRetries(config.upstream().maxRetries());
            StickySessions sticky =
                    p.sticky() == null ? null : new StickySessions(name, p.sticky(), registry);
            pools.put(name, new PoolRuntime(name, lb, lb.retries(policy), p.hashKey(), sticky));
            LoadBalancerMetrics m = LoadBalancerMetrics.builder(lb).build();
            m.bindTo(registry);
            metrics.add(m);
        }
    }

    private void bind() throws InterruptedException {
        EdgeConfig.Server s = config.server();
        proxyChannel =
                listen(
                        s.bind(),
                        s.port(),
                        ch -> {
                            ClientTimeouts timeouts =
                                    new ClientTimeouts(s.requestHeadTimeout(), s.bodyIdleTimeout());
                            ch.pipeline()
                                    .addLast(
                                            "idle",
                                            new IdleStateHandler(
                                                    0,
                                                    0,
                                                    s.idleTimeout().toMillis(),
                                                    TimeUnit.MILLISECONDS))
                                    .addLast("timeouts", timeouts)
                                    .addLast(
                                            "codec",
                                            new HttpServerCodec(
                                                    Math.min(8192, s.maxHeaderBytes()),
                                                    s.maxHeaderBytes(),
                                                    65_536))
                                    .addLast("continue", new HttpServerExpectContinueHandler())
                                    .addLast("proxy", new ProxyHandler(this, timeouts));
                        });
        adminChannel =
                listen(
                        config.admin().bind(),
                        config.admin().port(),
                        ch -> {
                            // The data path's head and body deadlines (slowloris) on the admin
                            // listener too.
                            ClientTimeouts timeouts =
                                    new ClientTimeouts(s.requestHeadTimeout(), s.bodyIdleTimeout());
                            ch.pipeline()
                                    .addLast(
                                            "idle",
                                            new IdleStateHandler(0, 0, 60, TimeUnit.SECONDS))
                                    .addLast("timeouts", timeouts)
                                    .addLast("codec", new HttpServerCodec(8192, 16_384, 65_536))
                                    .addLast("aggregate", new HttpObjectAggregator(1 << 20))
                                    .addLast("admin", new AdminHandler(this, timeouts));
                        });
    }

    private Channel listen(String host, int port, java.util.function.Consumer<Channel> pipeline)
            throws InterruptedException {
        return new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(
                        new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                pipeline.accept(ch);
                            }
                        })
                .bind(new InetSocketAddress(host, port))
                .sync()
                .channel();
    }

    /**
     * The ordered stop (SIGTERM): readiness goes false, the listeners stop accepting, in-flight
     * exchanges get up to {@code server.drainTimeout} to finish (their responses say {@code
     * Connection: close}), then everything closes. Returns whether every exchange finished in time.
     */
    public boolean drainAndStop() {
        state = "draining";
        long t0 = System.nanoTime();
        long budget = config.server().drainTimeout().toNanos();
        SelfRegistration registration = selfRegistration;
        if (registration != null) {
            // Peers that found us in Consul stop first; we keep serving meanwhile (drainWait). A
            // slow
            // agent eats into the drain, not past it: the whole shutdown stays within drainWait +
            // drainTimeout, which the deployment keeps under ECS's stopTimeout.
            budget += config.consul().register().drainWait().toNanos();
            registration.close();
        }
        if (proxyChannel != null) {
            proxyChannel.close().syncUninterruptibly();
        }
        long deadline = t0 + budget;
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        boolean clean = inFlight.get() == 0;
        LOG.info(
                "drained in {} ms; {} exchanges still in flight",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                inFlight.get());
        close();
        return clean;
    }

    @Override
    public void close() {
        state = "stopped";
        SelfRegistration registration = selfRegistration;
        if (registration != null) {
            registration.close();
        }
        if (proxyChannel != null) {
            proxyChannel.close();
        }
        if (adminChannel != null) {
            adminChannel.close();
        }
        clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        connections.close();
        metrics.forEach(LoadBalancerMetrics::close);
        pools.values().forEach(p -> p.balancer().close());
        // Bounded: a shutdown must never hang on its own event loops (seen once under load: the
        // loops
        // had exited but the termination future had not completed); the process exits after this.
        if (!group.shutdownGracefully(0, 1, TimeUnit.SECONDS)
                .awaitUninterruptibly(5, TimeUnit.SECONDS)) {
            LOG.warn("event loops did not terminate within 5 s; exiting anyway");
        }
    }

    // ---- for the handlers
    // --------------------------------------------------------------------------

    EdgeConfig config() {
        return config;
    }

    UpstreamConnections connections() {
        return connections;
    }

    Map<String, PoolRuntime> pools() {
        return pools;
    }

    ChannelGroup clients() {
        return clients;
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    EnvironmentInfo environment() {
        return environment;
    }

    /** What {@code /admin/env} shows: where the proxy runs and its Consul registration. */
    Map<String, Object> environmentView() {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("taskArn", environment.taskArn());
        view.put("availabilityZone", environment.availabilityZone());
        view.put("taskIp", environment.taskIp());
        view.put("source", environment.source());
        SelfRegistration registration = selfRegistration;
        view.put(
                "consulRegistration",
                registration == null ? "not configured" : registration.status());
        return view;
    }

    String state() {
        return state;
    }

    /** The admin plane's sessions and token-failure table, shared by its connections. */
    AdminAuth adminAuth() {
        return adminAuth;
    }

    RecentErrorRates errorRates() {
        return errorRates;
    }

    ProtocolLog protocolLog() {
        return protocolLog;
    }

    AddressRanges trustedProxies() {
        return trustedProxies;
    }

    ClientConnectionCap clientCap() {
        return clientCap;
    }

    boolean draining() {
        return !state.equals("ready") && !state.equals("starting");
    }

    void exchangeStarted() {
        inFlight.incrementAndGet();
    }

    void exchangeEnded() {
        inFlight.decrementAndGet();
    }

    /** Exchanges in flight now. */
    public int inFlight() {
        return inFlight.get();
    }

    /** The bound proxy port (useful with port 0). */
    public int proxyPort() {
        return ((InetSocketAddress) proxyChannel.localAddress()).getPort();
    }

    /** The bound admin port. */
    public int adminPort() {
        return ((InetSocketAddress) adminChannel.localAddress()).getPort();
    }
}
