package io.miniloadbalancer.benchmarks.replay;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.apache.commons.math3.distribution.LogNormalDistribution;
import org.apache.commons.math3.random.Well19937c;
import org.jspecify.annotations.Nullable;

/**
 * One backend of a replay: a real HTTP server on a loopback port whose behaviour the fault timeline
 * switches at run time.
 *
 * <ul>
 *   <li>{@code GET /work} waits a service time drawn from its latency profile, then answers 200, or
 *       500 with the backend's error rate, or 503 with a burst's rate. The wait is a scheduled
 *       task, not a sleeping thread, so a backend slowed to 2 s holds no thread per request.
 *   <li>{@code GET /health} answers at once (health endpoints are cheap) with 200, or 503 during a
 *       burst: it sees kills, flaps and bursts, not slowness, as a real probe would.
 *   <li>{@link #kill()} closes the listening socket and every open connection (requests in flight
 *       see a reset, new ones a refused connection); {@link #revive()} binds the same port again.
 * </ul>
 *
 * <p>Each backend draws its latencies and errors from its own generator seeded from the scenario's
 * seed, so the sequence of draws is fixed; which request gets which draw still depends on arrival
 * order across threads (OS scheduling), the one source of nondeterminism left.
 *
 * <p>Thread safety: the fault setters are called from the fault timeline's thread and read by
 * request handlers; they are volatile fields. Draws are synchronized on the generator.
 */
final class FaultyBackend implements AutoCloseable {

  static {
    // The JDK server leaves Nagle on; with small responses that costs up to 40 ms per reply
    // (delayed ACKs), which would drown the latencies under test.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private static final byte[] OK = "ok\n".getBytes(StandardCharsets.US_ASCII);
  private static final int BIND_ATTEMPTS = 50;

  private final String id;
  private final Executor handlers;
  private final ScheduledExecutorService replies;
  private final Well19937c random;
  private final LogNormalDistribution baseLatency;
  private final double baseErrorRate;
  private final long startNanos;
  private final AtomicLongArray requestsPerSecond;
  private volatile @Nullable LogNormalDistribution slowLatency;
  private volatile double burstRate;
  private volatile @Nullable HttpServer server;
  private volatile int port;

  /**
   * Starts the backend on an ephemeral loopback port.
   *
   * @param index the backend's number (its id is {@code b<index>})
   * @param profile latency and error rate
   * @param seed seeds this backend's draws
   * @param seconds how many seconds of per-second request counts to keep
   * @param startNanos the run's start on {@link System#nanoTime()}, for the per-second counts
   * @param handlers runs request handlers (they only schedule replies, so a small pool does)
   * @param replies sends the delayed replies
   */
  FaultyBackend(
      int index,
      Scenario.BackendGroup profile,
      long seed,
      int seconds,
      long startNanos,
      Executor handlers,
      ScheduledExecutorService replies) {
    this.id = Scenario.backendId(index);
    this.handlers = handlers;
    this.replies = replies;
    this.random = new Well19937c(seed);
    this.baseLatency = distribution(profile.latency(), random);
    this.baseErrorRate = profile.errorRate();
    this.startNanos = startNanos;
    this.requestsPerSecond = new AtomicLongArray(seconds);
    bind(0);
  }

  /** The backend's id, {@code b<index>}. */
  String id() {
    return id;
  }

  /** The loopback port; the same across kills and revivals. */
  int port() {
    return port;
  }

  /** Requests to {@code /work} that arrived in second {@code second} of the run. */
  long requestsInSecond(int second) {
    return second < requestsPerSecond.length() ? requestsPerSecond.get(second) : 0;
  }

  /** Whether the port is bound. */
  boolean alive() {
    return server != null;
  }

  /** Closes the listener and every connection; idempotent. */
  synchronized void kill() {
    HttpServer s = server;
    if (s != null) {
      server = null;
      s.stop(0);
    }
  }

  /** Binds the same port again; idempotent. */
  synchronized void revive() {
    if (server == null) {
      bind(port);
    }
  }

  /**
   * Serves requests at {@code latency} instead of the profile's, or the profile's again on null.
   */
  void slow(Scenario.@Nullable Latency latency) {
    slowLatency = latency == null ? null : distribution(latency, random);
  }

  /** Answers {@code rate} of requests (and probes) with 503; 0 ends the burst. */
  void errorBurst(double rate) {
    burstRate = rate;
  }

  @Override
  public void close() {
    kill();
  }

  private void bind(int wantedPort) {
    InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), wantedPort);
    for (int attempt = 1; ; attempt++) {
      try {
        HttpServer s = HttpServer.create(address, 1024);
        s.setExecutor(handlers);
        s.createContext("/work", this::work);
        s.createContext("/health", this::health);
        s.start();
        port = s.getAddress().getPort();
        server = s;
        return;
      } catch (BindException e) {
        // The kernel may hold the port for a moment after a kill; a bounded wait, then give
        // up.
        if (attempt == BIND_ATTEMPTS) {
          throw new UncheckedIOException("backend " + id + " cannot bind port " + wantedPort, e);
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      } catch (IOException e) {
        throw new UncheckedIOException("backend " + id + " cannot start", e);
      }
    }
  }

  private void work(HttpExchange exchange) {
    long second = (System.nanoTime() - startNanos) / 1_000_000_000L;
    if (second >= 0 && second < requestsPerSecond.length()) {
      requestsPerSecond.incrementAndGet((int) second);
    }
    int status;
    long delayNanos;
    LogNormalDistribution latency = slowLatency != null ? slowLatency : baseLatency;
    synchronized (random) {
      double u = random.nextDouble();
      double burst = burstRate;
      status = u < burst ? 503 : (random.nextDouble() < baseErrorRate ? 500 : 200);
      delayNanos = sampleNanos(latency);
    }
    if (delayNanos <= 0) {
      reply(exchange, status);
    } else {
      replies.schedule(() -> reply(exchange, status), delayNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void health(HttpExchange exchange) {
    double u;
    synchronized (random) {
      u = random.nextDouble();
    }
    reply(exchange, u < burstRate ? 503 : 200);
  }

  private static void reply(HttpExchange exchange, int status) {
    try (exchange) {
      exchange.sendResponseHeaders(status, OK.length);
      try (OutputStream body = exchange.getResponseBody()) {
        body.write(OK);
      }
    } catch (IOException killedMeanwhile) {
      // The backend was killed while the reply waited: the client already saw the reset.
    }
  }

  /** Draws one service time; the caller holds the generator's lock. */
  private static long sampleNanos(LogNormalDistribution d) {
    // Capped so one extreme draw of a wide profile cannot outlive the run.
    double seconds = Math.min(d.sample(), 60.0);
    return (long) (seconds * 1e9);
  }

  /**
   * A log-normal through the given median and 99th percentile: median = e^mu, p99 = e^(mu + 2.326
   * sigma). A zero median is a constant zero.
   */
  static LogNormalDistribution distribution(Scenario.Latency latency, Well19937c random) {
    double median = Math.max(latency.median().toNanos(), 1) / 1e9;
    double p99 = Math.max(latency.p99().toNanos(), 1) / 1e9;
    double sigma = Math.log(p99 / median) / Z99;
    // commons-math refuses a zero shape; a tiny one is a constant to the nanosecond.
    return new LogNormalDistribution(
        random,
        Math.log(median),
        Math.max(sigma, 1e-9),
        LogNormalDistribution.DEFAULT_INVERSE_ABSOLUTE_ACCURACY);
  }

  /** The standard normal's 99th percentile. */
  private static final double Z99 = 2.3263478740408408;

  @Override
  public String toString() {
    return id + "@127.0.0.1:" + port + (alive() ? "" : " (killed)");
  }
}
