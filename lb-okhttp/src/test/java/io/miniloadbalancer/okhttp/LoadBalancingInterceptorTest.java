package io.miniloadbalancer.okhttp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.LoadBalancerBuilder;
import io.miniloadbalancer.core.OutlierDetection;
import io.miniloadbalancer.core.RetryPolicy;
import io.miniloadbalancer.core.StaticEndpointSource;
import io.miniloadbalancer.core.Strategies;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The interceptor against real HTTP servers on loopback ({@link TestBackend}). */
class LoadBalancingInterceptorTest {

  private final List<TestBackend> servers = new ArrayList<>();
  private final List<LoadBalancer> balancers = new ArrayList<>();
  private final OkHttpClient base =
      new OkHttpClient.Builder()
          .connectTimeout(Duration.ofSeconds(2))
          .readTimeout(Duration.ofSeconds(5))
          .build();

  @AfterEach
  void stop() {
    balancers.forEach(LoadBalancer::close);
    servers.forEach(TestBackend::close);
  }

  /** A backend that answers every request with {@code code} and its own name. */
  private Endpoint backend(String name, int code) throws IOException {
    TestBackend server =
        TestBackend.start(
            request -> {
              String path = request.path();
              if (path.equals("/slow")) {
                return TestBackend.Reply.of(200, name).headersDelay(2_000);
              }
              if (path.equals("/fail")) {
                return TestBackend.Reply.of(500, name);
              }
              return TestBackend.Reply.of(
                      code,
                      name + " " + path + (request.query() == null ? "" : "?" + request.query()))
                  .header("X-Backend", name)
                  .header("X-Seen-Host", String.valueOf(request.headers().getFirst("Host")));
            });
    servers.add(server);
    return Endpoint.of(name, "127.0.0.1", server.port());
  }

  /** A server that answers every request with {@code response}. */
  private TestBackend answering(TestBackend.Reply response) throws IOException {
    TestBackend server = TestBackend.start(request -> response);
    servers.add(server);
    return server;
  }

  private static Endpoint refusing(String name) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return Endpoint.of(name, "127.0.0.1", s.getLocalPort());
    }
  }

  private LoadBalancer balancer(String name, List<Endpoint> endpoints, LoadBalancerBuilder b) {
    LoadBalancer lb = b.name(name).endpoints(endpoints).build();
    balancers.add(lb);
    return lb;
  }

  /**
   * These tests send requests back to back, each of which may need its one retry: a burst the
   * default budget (20% of requests + 10/s, no saved credit) refuses by design. They test which
   * requests are retried, not the budget, so every request gets a retry's worth here.
   */
  private static LoadBalancerBuilder everyRequestMayRetry() {
    return LoadBalancer.builder().retryBudget(100, 10, Duration.ofSeconds(1));
  }

  private OkHttpClient client(LoadBalancingInterceptor interceptor) {
    return base.newBuilder().addInterceptor(interceptor).build();
  }

  private static String get(OkHttpClient client, String url) throws IOException {
    try (Response r = client.newCall(new Request.Builder().url(url).build()).execute()) {
      return r.code() + " " + r.body().string();
    }
  }

  @Test
  void threeBackendsOneRefusingAllGetsSucceedAndTheDeadOneIsEjected() throws IOException {
    List<Endpoint> endpoints = List.of(backend("a", 200), backend("b", 200), refusing("dead"));
    LoadBalancer lb =
        balancer(
            "orders",
            endpoints,
            LoadBalancer.builder()
                .outlierDetection(OutlierDetection.builder().ejectionJitter(0).build()));
    OkHttpClient client = client(LoadBalancingInterceptor.builder().route("orders", lb).build());

    for (int i = 0; i < 1_000; i++) {
      assertThat(get(client, "http://orders/api/items?id=" + i)).startsWith("200 ");
    }

    EndpointSnapshot dead = lb.snapshot().endpoint("dead").orElseThrow();
    assertThat(dead.ejections()).isGreaterThanOrEqualTo(1);
    assertThat(dead.failures()).isBetween(5L, 20L);
    assertThat(lb.snapshot().totalInFlight()).isZero();
  }

  @Test
  void pathQueryAndHeadersAreKeptAndTheHostPolicyIsApplied() throws IOException {
    LoadBalancer lb = balancer("orders", List.of(backend("a", 200)), LoadBalancer.builder());
    OkHttpClient plain = client(LoadBalancingInterceptor.builder().route("orders", lb).build());
    try (Response r =
        plain
            .newCall(
                new Request.Builder()
                    .url("http://orders/api/items?id=7")
                    .header("X-Trace", "t1")
                    .build())
            .execute()) {
      assertThat(r.body().string()).isEqualTo("a /api/items?id=7");
      assertThat(r.header("X-Seen-Host")).startsWith("127.0.0.1:");
    }
    OkHttpClient preserving =
        client(
            LoadBalancingInterceptor.builder()
                .route("orders", lb)
                .preserveHostHeader(true)
                .build());
    try (Response r =
        preserving.newCall(new Request.Builder().url("http://orders/x").build()).execute()) {
      assertThat(r.header("X-Seen-Host")).isEqualTo("orders");
    }
  }

  @Test
  void getsFailOverFromA503ButAPostIsNotRetriedAndItsErrorReachesTheCaller() throws IOException {
    List<Endpoint> endpoints = List.of(backend("a", 200), backend("b", 200), backend("sick", 503));
    LoadBalancer lb = balancer("orders", endpoints, everyRequestMayRetry());
    OkHttpClient client = client(LoadBalancingInterceptor.builder().route("orders", lb).build());

    for (int i = 0; i < 60; i++) {
      assertThat(get(client, "http://orders/ok")).startsWith("200 ");
    }
    assertThat(lb.snapshot().endpoint("sick").orElseThrow().failures()).isGreaterThan(5);

    TestBackend sick = servers.get(2);
    int sickBefore = sick.requestCount();
    int posts503 = 0;
    int totalBefore = servers.stream().mapToInt(TestBackend::requestCount).sum();
    for (int i = 0; i < 30; i++) {
      Request post =
          new Request.Builder()
              .url("http://orders/orders")
              .post(RequestBody.create("{}", MediaType.get("application/json")))
              .build();
      try (Response r = client.newCall(post).execute()) {
        if (r.code() == 503) {
          posts503++;
          assertThat(r.body().string()).startsWith("sick");
        }
      }
    }
    int totalAfter = servers.stream().mapToInt(TestBackend::requestCount).sum();
    assertThat(posts503).as("POSTs that landed on the sick backend got its 503").isPositive();
    assertThat(sick.requestCount() - sickBefore).isEqualTo(posts503);
    assertThat(totalAfter - totalBefore).as("one attempt per POST").isEqualTo(30);
    assertThat(lb.snapshot().totalInFlight()).isZero();
  }

  @Test
  void aPostWithAnIdempotencyKeyOrTagIsRetried() throws IOException {
    List<Endpoint> endpoints = List.of(backend("a", 200), backend("sick", 503));
    LoadBalancer lb = balancer("orders", endpoints, everyRequestMayRetry());
    OkHttpClient client = client(LoadBalancingInterceptor.builder().route("orders", lb).build());
    for (int i = 0; i < 20; i++) {
      Request.Builder b =
          new Request.Builder()
              .url("http://orders/orders")
              .post(RequestBody.create("{}", MediaType.get("application/json")));
      if (i % 2 == 0) {
        b.header("Idempotency-Key", "k" + i);
      } else {
        b.tag(LoadBalancingTag.class, LoadBalancingTag.retryable());
      }
      try (Response r = client.newCall(b.build()).execute()) {
        assertThat(r.code()).isEqualTo(200);
      }
    }
  }

  @Test
  void aOneShotBodyIsNeverRetriedEvenForAnIdempotentMethod() throws IOException {
    List<Endpoint> endpoints = List.of(backend("sick", 503), backend("a", 200));
    LoadBalancer lb = balancer("orders", endpoints, LoadBalancer.builder());
    OkHttpClient client = client(LoadBalancingInterceptor.builder().route("orders", lb).build());
    int sick = 0;
    for (int i = 0; i < 10; i++) {
      RequestBody oneShot =
          new RequestBody() {
            @Override
            public MediaType contentType() {
              return MediaType.get("text/plain");
            }

            @Override
            public boolean isOneShot() {
              return true;
            }

            @Override
            public void writeTo(okio.BufferedSink sink) throws IOException {
              sink.writeUtf8("streamed once");
            }
          };
      try (Response r =
          client
              .newCall(new Request.Builder().url("http://orders/put").put(oneShot).build())
              .execute()) {
        sick += r.code() == 503 ? 1 : 0;
      }
    }
    assertThat(sick).as("PUTs that hit the sick backend were not retried").isEqualTo(5);
  }

  @Test
  void tenThousandMixedCallsLeaveEveryInFlightCountAtZero() throws Exception {
    List<Endpoint> endpoints = List.of(backend("a", 200), backend("b", 200), backend("c", 200));
    LoadBalancer lb =
        balancer(
            "orders", endpoints, LoadBalancer.builder().strategy(Strategies.LEAST_CONNECTIONS_P2C));
    OkHttpClient client =
        base.newBuilder()
            .readTimeout(Duration.ofMillis(100))
            .addInterceptor(
                LoadBalancingInterceptor.builder()
                    .route("orders", lb)
                    .retryPolicy(RetryPolicy.defaults().withMaxRetries(0))
                    .build())
            .build();
    AtomicInteger outcomes = new AtomicInteger();
    for (int i = 0; i < 10_000; i++) {
      int kind = i % 10;
      Request.Builder request = new Request.Builder();
      switch (kind) {
        case 0 -> request.url("http://orders/fail");
        case 1 -> request.url(i % 250 == 1 ? "http://orders/slow" : "http://orders/ok");
        default -> request.url("http://orders/ok?i=" + i);
      }
      okhttp3.Call call = client.newCall(request.build());
      try {
        switch (kind) {
          case 2 -> {
            call.cancel();
            call.execute().close();
          }
          case 3 -> call.execute().close(); // unread body, closed
          case 4 -> {
            Response r = call.execute();
            r.body().source().readByte(); // partly read, then closed
            r.close();
          }
          default -> {
            try (Response r = call.execute()) {
              r.body().string();
            }
          }
        }
      } catch (IOException expected) {
        outcomes.incrementAndGet();
      }
    }
    assertThat(outcomes.get()).as("cancellations and timeouts happened").isGreaterThan(1_000);
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> lb.snapshot().totalInFlight() == 0);
    BalancerSnapshot s = lb.snapshot();
    long ended =
        s.endpoints().stream()
            .mapToLong(e -> e.successes() + e.failures() + e.cancellations() + e.overloaded())
            .sum();
    assertThat(ended).isEqualTo(10_000);
    assertThat(s.endpoints().stream().mapToLong(EndpointSnapshot::cancellations).sum())
        .isGreaterThanOrEqualTo(1_000);
    assertThat(s.endpoints().stream().mapToLong(EndpointSnapshot::failures).sum())
        .isGreaterThanOrEqualTo(1_000);
  }

  @Test
  void theSameHashKeyReachesTheSameBackend() throws IOException {
    List<Endpoint> endpoints =
        List.of(backend("a", 200), backend("b", 200), backend("c", 200), backend("d", 200));
    LoadBalancer lb =
        balancer("users", endpoints, LoadBalancer.builder().strategy(Strategies.RING_HASH));
    OkHttpClient client =
        client(
            LoadBalancingInterceptor.builder().route("users", lb).hashKeyHeader("X-User").build());
    Set<String> seenByKey = new HashSet<>();
    Set<String> seenOverall = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      try (Response r =
          client
              .newCall(
                  new Request.Builder().url("http://users/p").header("X-User", "user-42").build())
              .execute()) {
        seenByKey.add(r.header("X-Backend"));
      }
      Request tagged =
          new Request.Builder()
              .url("http://users/p")
              .tag(LoadBalancingTag.class, LoadBalancingTag.hashKey("user-" + i))
              .build();
      try (Response r = client.newCall(tagged).execute()) {
        seenOverall.add(r.header("X-Backend"));
      }
    }
    assertThat(seenByKey).hasSize(1);
    assertThat(seenOverall).hasSizeGreaterThan(1);
  }

  @Test
  void requestsToOtherHostsPassThroughUntouched() throws IOException {
    Endpoint direct = backend("direct", 200);
    LoadBalancer lb = balancer("orders", List.of(backend("a", 200)), LoadBalancer.builder());
    OkHttpClient client = client(LoadBalancingInterceptor.builder().route("orders", lb).build());
    String url = "http://127.0.0.1:" + direct.port() + "/x?y=1";
    assertThat(get(client, url)).isEqualTo("200 direct /x?y=1");
    assertThat(lb.snapshot().endpoint("a").orElseThrow().successes()).isZero();
  }

  @Test
  void severalLogicalHostsEachUseTheirOwnBalancer() throws IOException {
    LoadBalancer orders = balancer("orders", List.of(backend("o1", 200)), LoadBalancer.builder());
    LoadBalancer users = balancer("users", List.of(backend("u1", 200)), LoadBalancer.builder());
    OkHttpClient client =
        client(
            LoadBalancingInterceptor.builder()
                .route("orders", orders)
                .route("users", users)
                .build());
    assertThat(get(client, "http://orders/a")).isEqualTo("200 o1 /a");
    assertThat(get(client, "http://users/b")).isEqualTo("200 u1 /b");
  }

  @Test
  void retryAfterPenalizesWithoutEjecting() throws IOException {
    TestBackend server = answering(TestBackend.Reply.of(429, "").header("Retry-After", "7"));
    List<Endpoint> endpoints =
        List.of(Endpoint.of("busy", "127.0.0.1", server.port()), backend("a", 200));
    LoadBalancer lb = balancer("orders", endpoints, LoadBalancer.builder());
    OkHttpClient client = client(LoadBalancingInterceptor.builder().route("orders", lb).build());
    for (int i = 0; i < 10; i++) {
      assertThat(get(client, "http://orders/x")).startsWith("200 a");
    }
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> lb.snapshot().endpoint("busy").orElseThrow().penaltyRemainingMillis() > 5_000);
    // Once the penalty is in force, the busy endpoint gets nothing more.
    long overloaded = lb.snapshot().endpoint("busy").orElseThrow().overloaded();
    assertThat(overloaded).isPositive();
    for (int i = 0; i < 10; i++) {
      assertThat(get(client, "http://orders/x")).startsWith("200 a");
    }
    EndpointSnapshot busy = lb.snapshot().endpoint("busy").orElseThrow();
    assertThat(busy.overloaded()).isEqualTo(overloaded);
    assertThat(busy.state().name()).isEqualTo("HEALTHY");
  }

  @Test
  void errorsExplainThemselves() throws IOException {
    StaticEndpointSource empty = new StaticEndpointSource();
    LoadBalancer none = LoadBalancer.builder().name("empty").source(empty).build();
    balancers.add(none);
    OkHttpClient client = client(LoadBalancingInterceptor.builder().route("empty", none).build());
    assertThatThrownBy(() -> get(client, "http://empty/x"))
        .isInstanceOf(LoadBalancerIOException.class)
        .hasMessageContaining("no endpoint available for 'empty'")
        .hasMessageContaining("pool 'empty'")
        .satisfies(
            e ->
                assertThat(((LoadBalancerIOException) e).kind())
                    .isEqualTo(LoadBalancerIOException.Kind.NO_ENDPOINT));

    LoadBalancer dead =
        balancer("dead", List.of(refusing("d1"), refusing("d2")), LoadBalancer.builder());
    OkHttpClient deadClient =
        client(LoadBalancingInterceptor.builder().route("dead", dead).build());
    assertThatThrownBy(() -> get(deadClient, "http://dead/x"))
        .isInstanceOf(LoadBalancerIOException.class)
        .hasMessageContaining("all attempts failed for 'dead'")
        .hasMessageContaining("ConnectException")
        .satisfies(
            e ->
                assertThat(((LoadBalancerIOException) e).attempts())
                    .extracting(RetryResultAttemptId::of)
                    .containsExactlyInAnyOrder("d1", "d2"));
  }

  /** The endpoint id of an attempt. */
  private static final class RetryResultAttemptId {
    static String of(io.miniloadbalancer.core.RetryResult.Attempt a) {
      return a.endpointId();
    }
  }

  @Test
  void aSingleEndpointsFailedResponseIsReturnedReadableWhenNoOtherEndpointIsLeft()
      throws IOException {
    LoadBalancer lb = balancer("orders", List.of(backend("sick", 503)), LoadBalancer.builder());
    OkHttpClient client = client(LoadBalancingInterceptor.builder().route("orders", lb).build());
    assertThat(get(client, "http://orders/x")).isEqualTo("503 sick /x");
    assertThat(lb.snapshot().totalInFlight()).isZero();
  }

  @Test
  void anAbsurdRetryAfterIsCappedNotAnError() throws IOException {
    TestBackend server =
        answering(TestBackend.Reply.of(503, "").header("Retry-After", "2000000000"));
    LoadBalancer lb =
        balancer(
            "orders",
            List.of(Endpoint.of("busy", "127.0.0.1", server.port())),
            LoadBalancer.builder());
    OkHttpClient client = client(LoadBalancingInterceptor.builder().route("orders", lb).build());
    assertThat(get(client, "http://orders/x")).startsWith("503");
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> lb.snapshot().endpoint("busy").orElseThrow().penaltyRemainingMillis() > 0);
    assertThat(lb.snapshot().endpoint("busy").orElseThrow().penaltyRemainingMillis())
        .isLessThanOrEqualTo(30_000);
  }

  @Test
  void cancellingMidBodyIsACancellationAndACallTimeoutIsAFailure() throws Exception {
    List<Endpoint> endpoints = List.of(backend("a", 200));
    LoadBalancer lb = balancer("orders", endpoints, LoadBalancer.builder());
    OkHttpClient client = client(LoadBalancingInterceptor.builder().route("orders", lb).build());
    okhttp3.Call call = client.newCall(new Request.Builder().url("http://orders/ok").build());
    Response r = call.execute();
    call.cancel();
    try {
      r.body().string();
    } catch (IOException expected) {
      // Reading a cancelled call's body may fail or may still succeed from the buffer.
    }
    r.close();
    EndpointSnapshot a = lb.snapshot().endpoint("a").orElseThrow();
    assertThat(a.failures()).as("a caller's cancel is not the endpoint's failure").isZero();
    assertThat(a.inFlight()).isZero();

    OkHttpClient impatient =
        base.newBuilder()
            .callTimeout(Duration.ofMillis(200))
            .addInterceptor(LoadBalancingInterceptor.builder().route("orders", lb).build())
            .build();
    assertThatThrownBy(() -> get(impatient, "http://orders/slow")).isInstanceOf(IOException.class);
    Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> lb.snapshot().endpoint("a").orElseThrow().failures() == 1);
    assertThat(lb.snapshot().totalInFlight()).isZero();
  }

  @Test
  void refusesToRunAsANetworkInterceptor() throws IOException {
    LoadBalancer lb = balancer("x", List.of(backend("a", 200)), LoadBalancer.builder());
    String url = "http://127.0.0.1:" + lb.snapshot().endpoints().get(0).endpoint().port() + "/";
    LoadBalancer self =
        balancer(
            "127.0.0.1",
            List.of(lb.snapshot().endpoints().get(0).endpoint()),
            LoadBalancer.builder());
    OkHttpClient client =
        base.newBuilder()
            .addNetworkInterceptor(
                LoadBalancingInterceptor.builder().route("127.0.0.1", self).build())
            .build();
    assertThatThrownBy(() -> get(client, url)).hasMessageContaining("addInterceptor");
  }

  @Test
  void okHttpProbePassesAndFailsOnRealStatuses() throws Exception {
    Endpoint up = backend("up", 200);
    Endpoint sick = backend("sick", 503);
    OkHttpHealthProbe probe = OkHttpHealthProbe.http(base, "/health");
    assertThat(probe.check(up).toCompletableFuture().get(5, TimeUnit.SECONDS).healthy()).isTrue();
    var failed = probe.check(sick).toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(failed.healthy()).isFalse();
    assertThat(failed.detail()).isEqualTo("HTTP 503 (unexpected status)");
    var refused = probe.check(refusing("gone")).toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(refused.healthy()).isFalse();
  }
}
