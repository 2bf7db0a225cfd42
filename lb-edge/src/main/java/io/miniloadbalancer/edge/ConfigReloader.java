package io.miniloadbalancer.edge;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.edge.admin.ConfigControl;
import io.miniloadbalancer.edge.admin.ReloadReport;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.edge.config.InvalidConfigException;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the config file without a restart (SIGHUP, {@code POST /admin/config/reload}, or the
 * optional file watch): the file and the environment are read again exactly as at start-up, and
 * what changed in {@code pools} and {@code routes} is applied by {@link Pools#apply}. An invalid
 * file changes nothing: the running configuration stays, and the reason is logged, answered and
 * counted. Settings the running listeners were built from (ports, workers, timeouts, the admin
 * token, Consul) are reported as needing a restart and not applied.
 *
 * <p>Every reload, and every close of a retired balancer, runs on one thread, in order; the planes
 * read the pools without locks meanwhile.
 */
final class ConfigReloader implements ConfigControl, AutoCloseable {

  /** Reloads by result: {@code applied}, {@code unchanged}, {@code invalid}. */
  static final String METER = "edge.config.reloads";

  private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);

  /**
   * Sections whose keys apply live. {@code upstream.maxRetries} too (the pools are rebuilt with
   * it); any other difference needs a restart.
   */
  private static final Set<String> LIVE = Set.of("pools", "routes", "upstream.maxRetries");

  private final Path file;
  private final Map<String, String> env;
  private final Pools pools;
  private final MeterRegistry registry;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "edge-config-reload");
            t.setDaemon(true);
            return t;
          });
  private final AtomicReference<EdgeConfig> current;
  private final Set<LoadBalancer> retiring = ConcurrentHashMap.newKeySet();
  private byte @Nullable [] lastSeen;
  private @Nullable ScheduledFuture<?> watch;

  ConfigReloader(
      Path file, Map<String, String> env, EdgeConfig running, Pools pools, MeterRegistry registry) {
    this.file = file;
    this.env = Map.copyOf(env);
    this.pools = pools;
    this.registry = registry;
    this.current = new AtomicReference<>(running);
    for (String result : List.of("applied", "unchanged", "invalid")) {
      counter(result);
    }
    if (running.reload().watch()) {
      lastSeen = readQuietly();
      long every = running.reload().watchInterval().toMillis();
      watch = executor.scheduleWithFixedDelay(this::checkFile, every, every, TimeUnit.MILLISECONDS);
      LOG.info("watching {} for changes every {} ms", file, every);
    }
  }

  private Counter counter(String result) {
    return Counter.builder(METER)
        .description("Config reloads by result: applied, unchanged, invalid (running config kept)")
        .tag("result", result)
        .register(registry);
  }

  @Override
  public EdgeConfig current() {
    return current.get();
  }

  @Override
  public CompletableFuture<ReloadReport> reload(String trigger) {
    return CompletableFuture.supplyAsync(() -> reloadNow(trigger), executor);
  }

  private void checkFile() {
    byte[] now = readQuietly();
    if (now != null && !Arrays.equals(now, lastSeen)) {
      reloadNow("file watch");
    }
  }

  private byte @Nullable [] readQuietly() {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      return null;
    }
  }

  private ReloadReport reloadNow(String trigger) {
    lastSeen = readQuietly();
    EdgeConfig running = current.get();
    EdgeConfig next;
    EdgeConfig merged;
    List<String> restart = new ArrayList<>();
    try {
      next = ConfigFiles.load(file, env);
      ConfigFiles.requirePools(next);
      differences("", running, next, restart);
      merged = liveParts(running, next);
    } catch (InvalidConfigException | IllegalArgumentException e) {
      counter("invalid").increment();
      LOG.warn("config reload ({}) refused, the running config stays: {}", trigger, e.getMessage());
      return new ReloadReport("invalid", e.getMessage(), List.of(), List.of());
    }
    List<String> changes = pools.apply(merged, this::retire);
    current.set(merged);
    restart.removeIf(key -> LIVE.stream().anyMatch(key::startsWith));
    String result = changes.isEmpty() ? "unchanged" : "applied";
    counter(result).increment();
    String message = changes.isEmpty() ? "no pool or route changed" : String.join("; ", changes);
    if (!restart.isEmpty()) {
      message += "; not applied, needs a restart: " + String.join(", ", restart);
    }
    LOG.info("config reload ({}) {}: {}", trigger, result, message);
    return new ReloadReport(result, message, changes, restart);
  }

  /**
   * The running configuration with {@code next}'s pools, routes and retries: what a reload applies.
   * Throws (a Consul pool without the running {@code consul} section) when the pools need a section
   * that only a restart brings.
   */
  private static EdgeConfig liveParts(EdgeConfig running, EdgeConfig next) {
    EdgeConfig.Upstream u = running.upstream();
    return new EdgeConfig(
        running.server(),
        running.admin(),
        new EdgeConfig.Upstream(
            u.connectTimeout(),
            u.responseTimeout(),
            u.idleTimeout(),
            u.maxConnectionsPerEndpoint(),
            next.upstream().maxRetries()),
        running.consul(),
        next.pools(),
        next.routes(),
        running.reload(),
        running.sticky(),
        running.accessLog());
  }

  /** Adds the dotted key of every scalar that differs between two records (never the values). */
  private static void differences(String prefix, Object a, Object b, List<String> out) {
    for (RecordComponent c : a.getClass().getRecordComponents()) {
      String key = prefix + c.getName();
      Object va = value(c, a);
      Object vb = value(c, b);
      if (Objects.equals(va, vb)) {
        continue;
      }
      if (va != null && vb != null && va.getClass().isRecord() && !key.equals("pools")) {
        differences(key + ".", va, vb, out);
      } else {
        out.add(key);
      }
    }
  }

  private static @Nullable Object value(RecordComponent c, Object record) {
    try {
      return c.getAccessor().invoke(record);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Closes a balancer taken out of service once the leases it handed out have ended, or after
   * {@code server.drainTimeout} at the latest.
   */
  private void retire(Pools.Built old) {
    LoadBalancer lb = old.balancer();
    retiring.add(lb);
    long deadline = System.nanoTime() + current.get().server().drainTimeout().toNanos();
    Runnable[] check = new Runnable[1];
    check[0] =
        () -> {
          int inFlight = inFlight(lb);
          if (inFlight == 0 || System.nanoTime() >= deadline) {
            if (inFlight > 0) {
              LOG.warn("pool '{}': old balancer closed with {} in flight", lb.name(), inFlight);
            }
            retiring.remove(lb);
            lb.close();
          } else {
            executor.schedule(check[0], 50, TimeUnit.MILLISECONDS);
          }
        };
    executor.execute(check[0]);
  }

  private static int inFlight(LoadBalancer lb) {
    int sum = 0;
    for (EndpointSnapshot e : lb.snapshot().endpoints()) {
      sum += lb.inFlight(e.id());
    }
    return sum;
  }

  @Override
  public void close() {
    ScheduledFuture<?> w = watch;
    if (w != null) {
      w.cancel(false);
    }
    executor.shutdownNow();
    retiring.forEach(LoadBalancer::close);
  }
}
