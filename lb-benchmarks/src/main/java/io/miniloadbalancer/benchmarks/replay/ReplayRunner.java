package io.miniloadbalancer.benchmarks.replay;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.okhttp.LoadBalancerIOException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ProgressBar;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.apache.commons.math3.distribution.ZipfDistribution;
import org.apache.commons.math3.random.Well19937c;
import org.jspecify.annotations.Nullable;

/**
 * Runs one {@link Scenario.Run} of a scenario on real sockets: starts the backends on loopback,
 * opens the run's {@link TrafficPath} (an lb-core balancer inside an OkHttp client with lb-okhttp's
 * interceptor, or the edge proxy in this process in front of a plain OkHttp client), offers
 * open-loop traffic, applies the fault timeline on schedule, and returns what it measured.
 *
 * <p>Every run of a scenario sees the same seeded arrivals, keys and backend draws; the strategy
 * (and the variant's settings) is the only thing that changes. What stays nondeterministic is OS
 * scheduling: which request reaches a backend first, when a timer fires, how long a GC pause lasts.
 * Numbers therefore move a little between repeats; rankings with a clear margin do not.
 *
 * <p>Not thread-safe: one run at a time (they compete for the same two cores otherwise).
 */
public final class ReplayRunner {

  /** The header carrying the request key to hash strategies. */
  static final String KEY_HEADER = "X-Replay-Key";

  /** Time between building everything and the first arrival: lets servers and probes settle. */
  private static final long LEAD_NANOS = TimeUnit.MILLISECONDS.toNanos(300);

  /** How long after the last arrival the run waits for calls still in flight, past the timeout. */
  private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final Scenario scenario;
  private final TrafficPath.Via via;

  /** A runner for {@code scenario} through lb-okhttp's interceptor (today's path). */
  public ReplayRunner(Scenario scenario) {
    this(scenario, TrafficPath.Via.OKHTTP);
  }

  /** A runner for {@code scenario} through {@code via}. */
  ReplayRunner(Scenario scenario, TrafficPath.Via via) {
    this.scenario = scenario;
    this.via = via;
  }

  /**
   * Runs {@code run} and returns its measurements.
   *
   * @param progress stepped once per finished request; null for none
   */
  public RunResult run(Scenario.Run run, @Nullable ProgressBar progress)
      throws InterruptedException {
    Scenario.Client client = scenario.client();
    int seconds = (int) Math.ceil(scenario.duration().toMillis() / 1000.0);
    RunRecorder recorder = new RunRecorder(seconds);
    long seed = scenario.seed();

    ThreadPoolExecutor handlers =
        new ThreadPoolExecutor(
            2,
            2,
            0,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(10_000),
            daemon("replay-backend"),
            new ThreadPoolExecutor.CallerRunsPolicy());
    ScheduledThreadPoolExecutor replies =
        new ScheduledThreadPoolExecutor(2, daemon("replay-reply"));
    replies.setRemoveOnCancelPolicy(true);
    ScheduledExecutorService timeline =
        Executors.newSingleThreadScheduledExecutor(daemon("replay-faults"));
    ExecutorService calls = Executors.newCachedThreadPool(daemon("replay-call"));

    long startNanos = System.nanoTime() + LEAD_NANOS;
    List<FaultyBackend> backends = new ArrayList<>();
    TrafficPath path = null;
    try {
      List<Endpoint> endpoints = new ArrayList<>();
      for (int i = 0; i < scenario.backendCount(); i++) {
        FaultyBackend b =
            new FaultyBackend(
                i,
                scenario.group(i),
                seed * 1_000_003L + i,
                seconds,
                startNanos,
                handlers,
                replies);
        backends.add(b);
        endpoints.add(Endpoint.of(b.id(), "127.0.0.1", b.port()));
      }
      path = via.open(scenario, run, endpoints, recorder, startNanos, calls);
      LoadBalancer balancer = path.balancer();
      scheduleFaults(timeline, backends, balancer, startNanos);
      scheduleSamples(timeline, balancer, recorder, startNanos, seconds, progress);
      offerTraffic(path, recorder, startNanos, seed, progress);
    } finally {
      timeline.shutdownNow();
      if (path != null) {
        path.close();
      }
      calls.shutdownNow();
      backends.forEach(FaultyBackend::close);
      replies.shutdownNow();
      handlers.shutdownNow();
    }
    long[][] perBackend = new long[backends.size()][seconds];
    for (int b = 0; b < backends.size(); b++) {
      for (int s = 0; s < seconds; s++) {
        perBackend[b][s] = backends.get(b).requestsInSecond(s);
      }
    }
    return recorder.finish(run.label(client), perBackend, scenario.faults());
  }

  /** Puts every fault of the timeline on the scheduler, relative to the run's start. */
  private void scheduleFaults(
      ScheduledExecutorService timeline,
      List<FaultyBackend> backends,
      LoadBalancer balancer,
      long startNanos) {
    for (Scenario.Fault f : scenario.faults()) {
      FaultyBackend b = backends.get(Integer.parseInt(f.backend().substring(1)));
      long at = f.at().toNanos();
      switch (f.action()) {
        case KILL -> at(timeline, startNanos, at, b::kill);
        case REVIVE -> at(timeline, startNanos, at, b::revive);
        case SLOW -> {
          at(timeline, startNanos, at, () -> b.slow(f.latency()));
          at(timeline, startNanos, at + f.duration().toNanos(), () -> b.slow(null));
        }
        case ERRORS -> {
          at(timeline, startNanos, at, () -> b.errorBurst(f.rate()));
          at(timeline, startNanos, at + f.duration().toNanos(), () -> b.errorBurst(0));
        }
        case FLAP -> {
          long period = f.period().toNanos();
          long end = at + f.duration().toNanos();
          int k = 0;
          for (long t = at; t < end; t += period, k++) {
            at(timeline, startNanos, t, k % 2 == 0 ? b::kill : b::revive);
          }
          at(timeline, startNanos, end, b::revive);
        }
        case DRAIN -> {
          at(timeline, startNanos, at, () -> balancer.drain(b.id(), f.duration()));
          at(timeline, startNanos, at + f.duration().toNanos(), () -> balancer.undrain(b.id()));
        }
        default -> throw new IllegalStateException("unhandled action " + f.action());
      }
    }
  }

  private static void at(
      ScheduledExecutorService timeline, long startNanos, long offset, Runnable r) {
    long delay = startNanos + offset - System.nanoTime();
    timeline.schedule(r, Math.max(0, delay), TimeUnit.NANOSECONDS);
  }

  /** Reads the balancer's retry counters at the end of every second. */
  private static void scheduleSamples(
      ScheduledExecutorService timeline,
      LoadBalancer balancer,
      RunRecorder recorder,
      long startNanos,
      int seconds,
      @Nullable ProgressBar progress) {
    for (int s = 0; s < seconds; s++) {
      int second = s;
      at(
          timeline,
          startNanos,
          (s + 1) * 1_000_000_000L,
          () -> {
            recorder.sampleSecond(second, balancer.retriesGranted(), balancer.retriesRefused());
          });
    }
    if (progress != null) {
      timeline.scheduleAtFixedRate(
          () -> progress.setExtraMessage(balancer.snapshot().routableCount() + " routable"),
          1,
          1,
          TimeUnit.SECONDS);
    }
  }

  /**
   * Offers the scenario's traffic: Poisson arrivals at the configured rate for the run's duration,
   * each sent asynchronously the moment it is due (open loop), at most {@code concurrency} at once.
   * Returns when every call has finished or the grace time after the last one has passed.
   */
  private void offerTraffic(
      TrafficPath path,
      RunRecorder recorder,
      long startNanos,
      long seed,
      @Nullable ProgressBar progress)
      throws InterruptedException {
    Scenario.Traffic traffic = scenario.traffic();
    SplittableRandom arrivals = new SplittableRandom(seed);
    LongSupplier keys = keys(traffic.keys(), seed);
    Semaphore permits = new Semaphore(traffic.concurrency());
    OkHttpClient http = path.http();
    long durationNanos = scenario.duration().toNanos();
    double meanGapNanos = 1e9 / traffic.rate();
    long due = 0;
    while (true) {
      // Exponential gaps: Poisson arrivals, bursts included, as independent clients produce.
      due += (long) (-Math.log(1 - arrivals.nextDouble()) * meanGapNanos);
      if (due >= durationNanos) {
        break;
      }
      long wait;
      while ((wait = startNanos + due - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      long key = keys.getAsLong();
      long arrival = due;
      if (!permits.tryAcquire()) {
        recorder.record(arrival, 0, RunRecorder.Result.SHED);
        step(progress);
        continue;
      }
      Request request =
          new Request.Builder().url(path.url(key)).header(KEY_HEADER, Long.toString(key)).build();
      http.newCall(request)
          .enqueue(
              new Callback() {
                @Override
                public void onResponse(Call call, Response response) {
                  RunRecorder.Result result;
                  try (ResponseBody body = response.body()) {
                    body.bytes();
                    result =
                        response.code() >= 500
                            ? RunRecorder.Result.HTTP_5XX
                            : RunRecorder.Result.OK;
                  } catch (IOException e) {
                    result = classify(e);
                  }
                  done(result);
                }

                @Override
                public void onFailure(Call call, IOException e) {
                  done(classify(e));
                }

                private void done(RunRecorder.Result result) {
                  recorder.record(arrival, System.nanoTime() - startNanos - arrival, result);
                  permits.release();
                  step(progress);
                }
              });
    }
    // Every call ends within its call timeout, so this normally returns as soon as the last one
    // does; one still open after the grace time is cancelled when the run is torn down.
    boolean allFinished =
        permits.tryAcquire(
            traffic.concurrency(),
            scenario.client().timeout().toNanos() + GRACE_NANOS,
            TimeUnit.NANOSECONDS);
    if (!allFinished && progress != null) {
      progress.setExtraMessage("calls left open after the grace time");
    }
  }

  private static void step(@Nullable ProgressBar progress) {
    if (progress != null) {
      progress.step();
    }
  }

  static RunRecorder.Result classify(IOException e) {
    if (e instanceof LoadBalancerIOException lb) {
      return switch (lb.kind()) {
        case NO_ENDPOINT -> RunRecorder.Result.NO_ENDPOINT;
        case BUDGET_EXHAUSTED -> RunRecorder.Result.BUDGET_EXHAUSTED;
        default -> RunRecorder.Result.IO_ERROR;
      };
    }
    if (e instanceof InterruptedIOException && "timeout".equals(e.getMessage())) {
      return RunRecorder.Result.TIMEOUT;
    }
    return RunRecorder.Result.IO_ERROR;
  }

  /** Request keys: uniform, or Zipf (commons-math's rejection-inversion sampler), seeded. */
  static LongSupplier keys(Scenario.Keys keys, long seed) {
    if (keys.zipf()) {
      ZipfDistribution zipf =
          new ZipfDistribution(new Well19937c(seed ^ 0x2545F491L), keys.count(), keys.exponent());
      return zipf::sample;
    }
    SplittableRandom uniform = new SplittableRandom(seed ^ 0x2545F491L);
    int count = keys.count();
    return () -> 1 + uniform.nextInt(count);
  }

  /**
   * A thread-safe seeded generator for the balancer's picks: the sequence is fixed by the seed;
   * which pick draws which number depends on thread order. A lock per pick is fine in a tool.
   */
  static LongSupplier seeded(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    return () -> {
      synchronized (random) {
        return random.nextLong();
      }
    };
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
