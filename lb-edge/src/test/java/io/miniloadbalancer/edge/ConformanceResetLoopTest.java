package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.edge.config.ConfigFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Issue 14 item 6: upstream connection resets must never stall a request. Two backends answer 200
 * after ~1 ms but abort (RST) every keep-alive connection that sits idle, every 300 ms (offset by
 * 150 ms from each other); the proxy runs with its default retries ({@code maxRetries: 1}). Under a
 * bounded closed-loop load every request must be answered 200, and none may take longer than twice
 * the backend's own latency plus {@code upstream.connectTimeout} (a retry may need one fresh
 * connect), plus a fixed scheduling slack for this shared two-core machine.
 *
 * <p>Before the fix, 32 of 11,531 requests stalled for 30-60 s (the retry was never written).
 */
@DisplayName(
    "Issue 14 #6 (RFC 9112 9.3.1 retrying requests): idle-connection resets never stall a"
        + " request")
class ConformanceResetLoopTest {

  private static final long BACKEND_LATENCY_MS = 1;
  private static final long CONNECT_TIMEOUT_MS = 1_000;

  /** Scheduling slack on a shared two-core machine (GC, 16 client threads, two backends). */
  private static final long SLACK_MS = 400;

  /** The bound: 2 x backend latency + connectTimeout + slack = 1,402 ms. */
  private static final long BOUND_MS = 2 * BACKEND_LATENCY_MS + CONNECT_TIMEOUT_MS + SLACK_MS;

  private static final int CLIENTS = 16;
  private static final int MAX_REQUESTS = 3_000;
  private static final long MAX_RUN_MS = 6_000;

  @Test
  @DisplayName(
      "16 clients, up to 3,000 requests or 6 s: all 200, none slower than 2 x 1 ms +"
          + " connectTimeout 1 s + 400 ms slack")
  void resetsOfIdleConnectionsNeverStallARequest() throws Exception {
    try (HostileBackend a = new HostileBackend();
        HostileBackend b = new HostileBackend()) {
      for (HostileBackend backend : List.of(a, b)) {
        backend.otherwise(
            List.of(
                HostileBackend.pause(BACKEND_LATENCY_MS),
                HostileBackend.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")));
      }
      a.resetIdleConnectionsEvery(300, 300);
      b.resetIdleConnectionsEvery(300, 450);
      String yaml =
          "server:\n  port: 0\nadmin:\n  port: 0\n"
              + "upstream:\n  connectTimeout: "
              + CONNECT_TIMEOUT_MS
              + "ms\n"
              + "pools:\n  reset:\n    endpoints:\n"
              + "      - {id: reset-a, host: 127.0.0.1, port: "
              + a.port()
              + "}\n"
              + "      - {id: reset-b, host: 127.0.0.1, port: "
              + b.port()
              + "}\n";
      EdgeProxy edge =
          EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", Map.of()), EnvironmentInfo.none());
      try {
        run(edge, a, b);
      } finally {
        edge.close();
      }
    }
  }

  private record Outcome(long millis, int status, String failure) {
    static Outcome of(long t0, RawClient.Response r) {
      String connection = r.header("Connection").orElse("-");
      return new Outcome(
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
          r.status(),
          r.status() == 200 ? null : "Connection: " + connection + " " + r.bodyText());
    }
  }

  private void run(EdgeProxy edge, HostileBackend a, HostileBackend b) throws Exception {
    AtomicInteger issued = new AtomicInteger();
    ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MAX_RUN_MS);
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      for (int i = 0; i < CLIENTS; i++) {
        clients.execute(
            () -> {
              try {
                start.await();
              } catch (InterruptedException e) {
                return;
              }
              RawClient.Connection c = null;
              while (System.nanoTime() < deadline && issued.incrementAndGet() <= MAX_REQUESTS) {
                long t0 = System.nanoTime();
                try {
                  if (c == null || c.closed()) {
                    c = new RawClient.Connection(edge.proxyPort());
                  }
                  // 5 s: long enough to tell a stall from a slow answer, short of
                  // the 30 s timeouts.
                  RawClient.Response r =
                      c.send("GET /proxy/reset/item HTTP/1.1\r\n" + "Host: a\r\n\r\n", 5_000);
                  outcomes.add(Outcome.of(t0, r));
                } catch (IOException e) {
                  outcomes.add(
                      new Outcome(
                          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                          0,
                          e.getMessage()));
                  closeQuietly(c);
                  c = null;
                }
              }
              closeQuietly(c);
            });
      }
      start.countDown();
      clients.shutdown();
      assertThat(clients.awaitTermination(MAX_RUN_MS + 15_000, TimeUnit.MILLISECONDS))
          .as("load finished")
          .isTrue();
    } finally {
      clients.shutdownNow();
    }
    List<Outcome> all = new ArrayList<>(outcomes);
    List<Long> millis = new ArrayList<>(all.stream().map(Outcome::millis).toList());
    Collections.sort(millis);
    String summary =
        all.size()
            + " requests, "
            + (a.idleResets() + b.idleResets())
            + " idle connections reset, "
            + (a.connections() + b.connections())
            + " upstream connections; latency p50 "
            + millis.get(millis.size() / 2)
            + " ms, p99 "
            + millis.get((int) (millis.size() * 0.99))
            + " ms, max "
            + millis.get(millis.size() - 1)
            + " ms";
    System.out.println("ConformanceResetLoopTest: " + summary);
    assertThat(a.idleResets() + b.idleResets())
        .as("the backends did reset idle connections: " + summary)
        .isPositive();
    assertThat(all).as("requests made: " + summary).hasSizeGreaterThan(500);
    assertThat(all.stream().filter(o -> o.status() != 200).toList())
        .as("every request answered 200 (status 0: no answer within 5 s): " + summary)
        .isEmpty();
    assertThat(all.stream().filter(o -> o.millis() > BOUND_MS).toList())
        .as("requests slower than " + BOUND_MS + " ms: " + summary)
        .isEmpty();
  }

  private static void closeQuietly(RawClient.Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
