package io.miniloadbalancer.edge;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.edge.admin.AdminPlane;
import io.miniloadbalancer.edge.admin.ReloadReport;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.http.ClientTimeouts;
import io.miniloadbalancer.edge.http.IdleTimeout;
import io.miniloadbalancer.edge.proxy.DataPlane;
import io.miniloadbalancer.edge.proxy.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge proxy: pools, listeners, and the ordered shutdown. Embeddable (tests start it on
 * ephemeral ports); {@link EdgeMain} runs it as a process.
 *
 * <p>It wires the rooms and owns their lifecycle: the {@link DataPlane} (the proxy listener's
 * handlers), the {@link AdminPlane} (the admin listener's), and the {@link Pools} both are given.
 * Neither plane sees this class: each reaches the process only through {@link
 * io.miniloadbalancer.edge.http.Readiness} and what it is handed here.
 */
public final class EdgeProxy implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EdgeProxy.class);

  private final EdgeConfig config;
  private final Transport transport;
  private final EventLoopGroup group;
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final EnvironmentInfo environment;
  private final ProcessState state = new ProcessState();
  private final DataPlane data;
  private final AdminPlane admin;
  private @Nullable Pools pools;
  private volatile @Nullable SelfRegistration selfRegistration;
  private volatile @Nullable ConfigReloader reloader;
  private Channel proxyChannel;
  private Channel adminChannel;

  private EdgeProxy(EdgeConfig config, EnvironmentInfo environment) {
    this.config = config;
    this.environment = environment;
    this.transport = Transport.choose(config.server().transport());
    this.group = transport.group(config.server().workers());
    bindProcessMeters(registry, group);
    this.data = new DataPlane(config, transport, registry, state);
    this.admin = new AdminPlane(config, state, this::environmentView, registry::scrape);
  }

  /**
   * Micrometer's own binders: JVM memory, GC, threads, class loading; process uptime, CPU and open
   * files; Netty's buffer allocator and the event loops' pending tasks. Their names are
   * Micrometer's ({@code jvm_*}, {@code process_*}, {@code system_*}, {@code netty_*}).
   */
  private static void bindProcessMeters(MeterRegistry registry, EventLoopGroup loops) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmInfoMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider allocator) {
      new NettyAllocatorMetrics(allocator).bindTo(registry);
    }
    new NettyEventExecutorMetrics(loops).bindTo(registry);
  }

  /**
   * Builds the pools and binds both listeners; the proxy is ready when this returns.
   *
   * @param config the configuration
   * @return the running proxy
   * @throws InterruptedException when interrupted while binding
   */
  public static EdgeProxy start(EdgeConfig config) throws InterruptedException {
    return start(config, EnvironmentInfo.fromEnvironment(System.getenv()));
  }

  /**
   * As {@link #start(EdgeConfig)}, where the process runs given rather than read from the
   * environment (tests, and hosts that know their own placement).
   *
   * @param config the configuration
   * @param environment where the proxy runs: ECS task, zone, address
   * @return the running proxy
   * @throws InterruptedException when interrupted while binding
   */
  public static EdgeProxy start(EdgeConfig config, EnvironmentInfo environment)
      throws InterruptedException {
    EdgeProxy edge = new EdgeProxy(config, environment);
    try {
      edge.pools = new Pools(config, edge.registry, edge.data, edge.admin);
      edge.bind();
      edge.state.set("ready");
      // After readiness: the agent runs the /readyz check as soon as the service is
      // registered.
      EdgeConfig.Consul consul = config.consul();
      if (consul != null && consul.register() != null) {
        edge.selfRegistration = SelfRegistration.start(consul, environment, edge.proxyPort());
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
        config.pools().keySet());
    return edge;
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
                  .addLast("idle", new IdleTimeout(s.idleTimeout()))
                  .addLast("timeouts", timeouts)
                  .addLast(
                      "codec",
                      new HttpServerCodec(
                          Math.min(8192, s.maxHeaderBytes()), s.maxHeaderBytes(), 65_536))
                  .addLast("continue", new HttpServerExpectContinueHandler())
                  .addLast("proxy", data.newHandler(timeouts));
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
                  .addLast("idle", new IdleTimeout(Duration.ofSeconds(60)))
                  .addLast("timeouts", timeouts)
                  .addLast("codec", new HttpServerCodec(8192, 16_384, 65_536))
                  .addLast("aggregate", new HttpObjectAggregator(1 << 20))
                  .addLast("admin", admin.newHandler(timeouts));
            });
  }

  private Channel listen(String host, int port, Consumer<Channel> pipeline)
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
    state.set("draining");
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
    while (data.inFlight() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    boolean clean = data.inFlight() == 0;
    LOG.info(
        "drained in {} ms; {} exchanges still in flight",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
        data.inFlight());
    close();
    return clean;
  }

  /**
   * Lets the proxy reload its configuration from {@code file} without a restart: on {@link
   * #reload}, {@code POST /admin/config/reload}, and (when the file says {@code reload.watch:
   * true}) whenever the file's content changes. Call once, after {@link #start}.
   *
   * @param file the config file the proxy was started from
   * @param env the environment its {@code EDGE_*} overrides come from, as at start-up
   */
  public void enableReload(Path file, Map<String, String> env) {
    ConfigReloader r = new ConfigReloader(file, env, config, pools, registry);
    reloader = r;
    admin.configControl(r);
  }

  /**
   * Reloads the config file given to {@link #enableReload} and applies what changed (pools,
   * endpoints, strategies, routes); an invalid file keeps the running configuration.
   *
   * @param trigger who asked, for the log
   * @return the outcome; an {@code invalid} report when reload is not enabled
   */
  public CompletableFuture<ReloadReport> reload(String trigger) {
    ConfigReloader r = reloader;
    if (r == null) {
      return CompletableFuture.completedFuture(
          new ReloadReport(
              "invalid",
              "no config file to reload (started without --config)",
              List.of(),
              List.of()));
    }
    return r.reload(trigger);
  }

  @Override
  public void close() {
    state.set("stopped");
    ConfigReloader r = reloader;
    if (r != null) {
      r.close();
    }
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
    data.close();
    Pools built = pools;
    if (built != null) {
      built.close();
    }
    // Bounded: a shutdown must never hang on its own event loops (seen once under load: the
    // loops
    // had exited but the termination future had not completed); the process exits after this.
    if (!group
        .shutdownGracefully(0, 1, TimeUnit.SECONDS)
        .awaitUninterruptibly(5, TimeUnit.SECONDS)) {
      LOG.warn("event loops did not terminate within 5 s; exiting anyway");
    }
  }

  /** What {@code /admin/env} shows: where the proxy runs and its Consul registration. */
  private Map<String, Object> environmentView() {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("taskArn", environment.taskArn());
    view.put("availabilityZone", environment.availabilityZone());
    view.put("taskIp", environment.taskIp());
    view.put("source", environment.source());
    SelfRegistration registration = selfRegistration;
    view.put("consulRegistration", registration == null ? "not configured" : registration.status());
    return view;
  }

  /**
   * The configuration the proxy runs with.
   *
   * @return the configuration given to {@link #start(EdgeConfig)}, or the last one reloaded
   */
  public EdgeConfig config() {
    ConfigReloader r = reloader;
    return r != null ? r.current() : config;
  }

  /**
   * Where the proxy is in its life, as {@code /readyz} reports it.
   *
   * @return {@code starting}, {@code ready}, {@code draining} or {@code stopped}
   */
  public String state() {
    return state.state();
  }

  /**
   * A configured pool's balancer (for embedding hosts and tests that act on a pool directly).
   *
   * @param pool the pool's name
   * @return the pool's balancer, or null when no pool has that name
   */
  public @Nullable LoadBalancer balancer(String pool) {
    Pools built = pools;
    return built == null ? null : built.balancer(pool);
  }

  /**
   * Exchanges in flight now.
   *
   * @return the number of proxied exchanges begun and not yet ended
   */
  public int inFlight() {
    return data.inFlight();
  }

  /**
   * The bound proxy port (useful with port 0).
   *
   * @return the proxy listener's port
   */
  public int proxyPort() {
    return ((InetSocketAddress) proxyChannel.localAddress()).getPort();
  }

  /**
   * The bound admin port.
   *
   * @return the admin listener's port
   */
  public int adminPort() {
    return ((InetSocketAddress) adminChannel.localAddress()).getPort();
  }
}
