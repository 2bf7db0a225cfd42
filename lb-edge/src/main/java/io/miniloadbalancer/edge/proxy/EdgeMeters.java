package io.miniloadbalancer.edge.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * The proxy's own meters, every {@code edge.*} name in one place (as lb-metrics' {@code MeterNames}
 * is for {@code lb.*}). Tags stay low-cardinality: pool, status class, outcome, reason, side, kind,
 * never an endpoint, path or client.
 *
 * <p>Per-pool meters are built once when the pool is added ({@link Pool}); an exchange's end then
 * indexes an array and increments: no lookup, no tag objects, no allocation on the data path.
 */
public final class EdgeMeters {

  /** Exchanges ended, tagged {@code pool}, {@code status_class} and {@code outcome}. */
  public static final String REQUESTS = "edge.requests";

  /** Time from a request's head to its exchange's end, tagged {@code pool}. */
  public static final String REQUEST_DURATION = "edge.request.duration";

  /** Open client connections of the proxy listener. */
  public static final String CLIENT_CONNECTIONS = "edge.client.connections.active";

  /** Open upstream connections (pooled idle, in use, and WebSocket tunnels). */
  public static final String UPSTREAM_CONNECTIONS = "edge.upstream.connections.active";

  /** Failed connection attempts to backends, tagged {@code pool}. */
  public static final String CONNECT_ERRORS = "edge.upstream.connect.errors";

  /** Request body bytes read from clients, tagged {@code pool}. */
  public static final String BYTES_IN = "edge.request.body.bytes";

  /** Response body bytes written to clients, tagged {@code pool}. */
  public static final String BYTES_OUT = "edge.response.body.bytes";

  /** Retries granted (another attempt), tagged {@code pool} and {@code reason}. */
  public static final String RETRIES = "edge.retries";

  /** Protocol errors and unserved requests, tagged {@code side} and {@code kind}. */
  public static final String PROTOCOL_ERRORS = "edge.protocol.errors";

  /**
   * The duration histogram's range: Prometheus buckets from 1 ms to 60 s (about 70 buckets per
   * pool). Buckets, not client-side percentiles: {@code histogram_quantile} over buckets aggregates
   * across a fleet of proxies, precomputed percentiles do not.
   */
  static final Duration DURATION_MIN = Duration.ofMillis(1);

  static final Duration DURATION_MAX = Duration.ofSeconds(60);

  /** How an exchange ended; the {@code outcome} tag. */
  enum Ending {
    /** The backend's response was relayed in full (or a WebSocket tunnel closed). */
    ANSWERED,
    /** The proxy answered with its own error (no endpoint, pool full, retries exhausted). */
    PROXY_ERROR,
    /** The client broke the protocol or a client deadline passed (4xx from the proxy). */
    CLIENT_ERROR,
    /** The response had begun and was cut (the backend failed mid-body). */
    CUT,
    /** The client went away before the end. */
    CLIENT_CLOSED;

    final String tag = name().toLowerCase(Locale.ROOT);
  }

  private static final String[] STATUS_CLASSES = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

  private final MeterRegistry registry;

  EdgeMeters(MeterRegistry registry) {
    this.registry = registry;
  }

  /** The two connection gauges, read at scrape time. */
  void bindConnections(IntSupplier clients, IntSupplier upstream) {
    Gauge.builder(CLIENT_CONNECTIONS, clients::getAsInt)
        .description("Open client connections of the proxy listener")
        .register(registry);
    Gauge.builder(UPSTREAM_CONNECTIONS, upstream::getAsInt)
        .description("Open connections to backends, idle or in use")
        .register(registry);
  }

  /** A counter of {@link #PROTOCOL_ERRORS}. */
  Counter protocolErrors(String side, String kind) {
    return Counter.builder(PROTOCOL_ERRORS)
        .description("Protocol errors and unserved requests, by the side at fault")
        .tag("side", side)
        .tag("kind", kind)
        .register(registry);
  }

  /** The meters of pool {@code name}, built once. */
  Pool pool(String name) {
    return new Pool(registry, name);
  }

  /** One pool's meters. Safe from any event loop. */
  static final class Pool {

    private final MeterRegistry registry;
    private final String name;
    private final Counter[][] requests = new Counter[STATUS_CLASSES.length][Ending.values().length];
    private final Timer duration;
    private final Counter connectErrors;
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final Map<String, Counter> retries = new ConcurrentHashMap<>();

    Pool(MeterRegistry registry, String name) {
      this.registry = registry;
      this.name = name;
      for (int c = 0; c < STATUS_CLASSES.length; c++) {
        for (Ending e : Ending.values()) {
          requests[c][e.ordinal()] =
              Counter.builder(REQUESTS)
                  .description("Proxied exchanges ended, by status class and outcome")
                  .tag("pool", name)
                  .tag("status_class", STATUS_CLASSES[c])
                  .tag("outcome", e.tag)
                  .register(registry);
        }
      }
      duration =
          Timer.builder(REQUEST_DURATION)
              .description("From the request head to the exchange's end")
              .tag("pool", name)
              .publishPercentileHistogram()
              .minimumExpectedValue(DURATION_MIN)
              .maximumExpectedValue(DURATION_MAX)
              .register(registry);
      connectErrors =
          Counter.builder(CONNECT_ERRORS)
              .description("Failed connection attempts to the pool's endpoints")
              .tag("pool", name)
              .register(registry);
      bytesIn =
          Counter.builder(BYTES_IN)
              .description("Request body bytes read from clients")
              .baseUnit("bytes")
              .tag("pool", name)
              .register(registry);
      bytesOut =
          Counter.builder(BYTES_OUT)
              .description("Response body bytes written to clients")
              .baseUnit("bytes")
              .tag("pool", name)
              .register(registry);
    }

    /** An exchange ended with {@code status} (0: none sent) after {@code nanos}. */
    void ended(int status, Ending ending, long nanos, long in, long out) {
      int c = status >= 100 && status < 600 ? status / 100 : 0;
      requests[c][ending.ordinal()].increment();
      duration.record(nanos, TimeUnit.NANOSECONDS);
      if (in > 0) {
        bytesIn.increment(in);
      }
      if (out > 0) {
        bytesOut.increment(out);
      }
    }

    void connectError() {
      connectErrors.increment();
    }

    /** A retry was granted; {@code reason} comes from a fixed set of words. */
    void retry(String reason) {
      Counter c = retries.get(reason);
      if (c == null) {
        c =
            retries.computeIfAbsent(
                reason,
                r ->
                    Counter.builder(RETRIES)
                        .description("Retries granted, by what failed")
                        .tag("pool", name)
                        .tag("reason", r)
                        .register(registry));
      }
      c.increment();
    }
  }
}
