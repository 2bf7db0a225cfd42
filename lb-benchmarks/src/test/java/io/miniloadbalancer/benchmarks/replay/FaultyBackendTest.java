package io.miniloadbalancer.benchmarks.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.miniloadbalancer.yaml.Durations;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The backend's faults, seen from a plain HTTP client over a real loopback socket. */
class FaultyBackendTest {

  private final ExecutorService handlers = Executors.newFixedThreadPool(2);
  private final ScheduledExecutorService replies = Executors.newScheduledThreadPool(1);
  private final OkHttpClient http =
      new OkHttpClient.Builder().callTimeout(Duration.ofSeconds(3)).build();
  private FaultyBackend backend;

  @AfterEach
  void stop() {
    if (backend != null) {
      backend.close();
    }
    handlers.shutdownNow();
    replies.shutdownNow();
    http.connectionPool().evictAll();
  }

  private FaultyBackend start(String median, String p99, double errorRate) {
    Scenario.Latency latency = new Scenario.Latency(Durations.parse(median), Durations.parse(p99));
    backend =
        new FaultyBackend(
            0,
            new Scenario.BackendGroup(1, latency, errorRate),
            42,
            60,
            System.nanoTime(),
            handlers,
            replies);
    return backend;
  }

  private int get(String path) throws IOException {
    try (Response r =
        http.newCall(new Request.Builder().url("http://127.0.0.1:" + backend.port() + path).build())
            .execute()) {
      r.body().bytes();
      return r.code();
    }
  }

  private long timedGetMillis() throws IOException {
    long start = System.nanoTime();
    assertThat(get("/work")).isEqualTo(200);
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  @Test
  void killUnbindsThePortAndReviveBindsTheSameOne() throws IOException {
    start("1ms", "1ms", 0);
    int port = backend.port();
    assertThat(get("/work")).isEqualTo(200);

    backend.kill();
    http.connectionPool().evictAll();
    assertThatThrownBy(() -> get("/work")).isInstanceOf(ConnectException.class);
    assertThatThrownBy(() -> get("/health")).isInstanceOf(ConnectException.class);

    backend.revive();
    assertThat(backend.port()).isEqualTo(port);
    assertThat(get("/work")).isEqualTo(200);
    assertThat(backend.requestsInSecond(0)).isEqualTo(2);
  }

  @Test
  void killResetsRequestsInFlight() {
    start("2s", "2s", 0);
    replies.schedule(backend::kill, 200, TimeUnit.MILLISECONDS);

    long start = System.nanoTime();
    assertThatThrownBy(() -> get("/work")).isInstanceOf(IOException.class);
    assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(1));
  }

  @Test
  void slowReplacesTheLatencyUntilCleared() throws IOException {
    start("1ms", "2ms", 0);
    assertThat(timedGetMillis()).isLessThan(200);

    backend.slow(new Scenario.Latency(Duration.ofMillis(400), Duration.ofMillis(400)));
    assertThat(timedGetMillis()).isBetween(390L, 1500L);
    // Health endpoints stay cheap: a slow backend still answers its probe at once.
    long start = System.nanoTime();
    assertThat(get("/health")).isEqualTo(200);
    assertThat(System.nanoTime() - start).isLessThan(TimeUnit.MILLISECONDS.toNanos(300));

    backend.slow(null);
    assertThat(timedGetMillis()).isLessThan(200);
  }

  @Test
  void errorBurstAnswers503ToRequestsAndProbes() throws IOException {
    start("0ms", "0ms", 0);
    backend.errorBurst(1.0);
    assertThat(get("/work")).isEqualTo(503);
    assertThat(get("/health")).isEqualTo(503);
    backend.errorBurst(0);
    assertThat(get("/work")).isEqualTo(200);
  }

  @Test
  void errorRateIsSeededAndNearItsValue() throws IOException {
    start("0ms", "0ms", 0.2);
    int errors = 0;
    for (int i = 0; i < 400; i++) {
      errors += get("/work") == 500 ? 1 : 0;
    }
    // 400 draws at 20%: mean 80, sd 8; the seed makes it one fixed count.
    assertThat(errors).isBetween(56, 104);
  }
}
