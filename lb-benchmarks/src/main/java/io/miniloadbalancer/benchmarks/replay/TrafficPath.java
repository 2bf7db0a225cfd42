package io.miniloadbalancer.benchmarks.replay;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.LeaseObserver;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;

/**
 * How a run's traffic reaches the backends: through lb-okhttp's interceptor in the client ({@link
 * Via#OKHTTP}, lb-core inside the client) or through the edge proxy started in this process ({@link
 * Via#EDGE}, lb-core inside the proxy, a plain OkHttp client in front). Either way the run reads
 * the same lb-core balancer: its retry counters, its transitions, its lease ends (every attempt).
 */
interface TrafficPath extends AutoCloseable {

  /** Where a scenario's traffic goes. */
  enum Via {
    /** lb-okhttp's interceptor in the client: today's path, the default. */
    OKHTTP,
    /** The edge proxy (lb-edge's EdgeProxy), in-process, in front of the backends. */
    EDGE;

    /**
     * The path named {@code name} ({@code okhttp} or {@code edge}).
     *
     * @throws IllegalArgumentException naming the known values
     */
    static Via parse(String name) {
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--via must be okhttp or edge, was '" + name + "'", e);
      }
    }

    /** Opens this path for one run. */
    TrafficPath open(
        Scenario scenario,
        Scenario.Run run,
        List<Endpoint> endpoints,
        RunRecorder recorder,
        long startNanos,
        ExecutorService calls)
        throws InterruptedException {
      return switch (this) {
        case OKHTTP -> OkHttpPath.open(scenario, run, endpoints, recorder, startNanos, calls);
        case EDGE -> EdgePath.open(scenario, run, endpoints, recorder, startNanos, calls);
      };
    }
  }

  /** The balancer that picks for this run (the client's, or the proxy's pool's). */
  LoadBalancer balancer();

  /** The client the traffic is sent with. */
  OkHttpClient http();

  /** The URL of the request with {@code key}. */
  String url(long key);

  /** Stops what the path started (the proxy, the balancer); never throws. */
  @Override
  void close();

  /**
   * An OkHttp client for {@code concurrency} calls in flight, every timeout the client's (the whole
   * call, retries included): what the application would run.
   */
  static OkHttpClient.Builder client(
      Scenario.Client client, int concurrency, ExecutorService calls) {
    Dispatcher dispatcher = new Dispatcher(calls);
    // The semaphore in offerTraffic is the bound; the dispatcher must never queue behind it.
    dispatcher.setMaxRequests(concurrency);
    dispatcher.setMaxRequestsPerHost(concurrency);
    return new OkHttpClient.Builder()
        .dispatcher(dispatcher)
        .connectionPool(new ConnectionPool(concurrency, 1, TimeUnit.MINUTES))
        .callTimeout(client.timeout())
        .connectTimeout(client.timeout())
        .readTimeout(client.timeout());
  }

  /**
   * Records every lease (one per attempt, retries included) for the run when it ends, charged to
   * the second it began (its end less its latency; a cancelled lease, without one, to its end), so
   * a window's attempts line up with the requests sent in it.
   */
  static void observeAttempts(LoadBalancer balancer, RunRecorder recorder, long startNanos) {
    balancer.addLeaseObserver(
        new LeaseObserver() {
          @Override
          public void onLeaseEnd(Endpoint endpoint, Outcome outcome, long latencyNanos) {
            recorder.attempt(System.nanoTime() - startNanos - Math.max(0, latencyNanos));
          }
        });
  }

  /** A listener recording transitions with their time from the run's start. */
  static BalancerListener transitions(RunRecorder recorder, long startNanos) {
    return new BalancerListener() {
      @Override
      public void onTransition(Transition t) {
        recorder.transition(System.nanoTime() - startNanos, t);
      }
    };
  }
}
