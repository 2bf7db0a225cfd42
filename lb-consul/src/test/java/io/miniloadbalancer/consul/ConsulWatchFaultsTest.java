package io.miniloadbalancer.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.miniloadbalancer.consul.FakeConsulAgent.Answer;
import io.miniloadbalancer.consul.FakeConsulAgent.Request;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.RequestContext;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The watch loop against a FAKE agent, for faults a real agent does not produce on demand. */
class ConsulWatchFaultsTest {

  private final FakeConsulAgent agent = new FakeConsulAgent();
  private LoadBalancer lb;

  ConsulWatchFaultsTest() throws IOException {}

  @AfterEach
  void close() {
    if (lb != null) {
      lb.close();
    }
    agent.close();
  }

  private ConsulEndpointSource.Builder source() {
    return ConsulEndpointSource.builder("api")
        .agent(agent.url())
        .wait(Duration.ofSeconds(1))
        .minQueryInterval(Duration.ofMillis(100))
        .backoff(Duration.ofMillis(100), Duration.ofMillis(800));
  }

  private LoadBalancer start(ConsulEndpointSource.Builder source) {
    lb = LoadBalancer.builder().name("api").source(source.build()).build();
    return lb;
  }

  private List<String> routable() {
    return lb.snapshot().endpoints().stream()
        .filter(EndpointSnapshot::routable)
        .map(EndpointSnapshot::id)
        .toList();
  }

  /** A real agent's blocking behaviour: at the current index, hold for the wait. */
  private static Answer blocking(Request r, String capture, long index, long holdMillis) {
    if (r.index() != null && r.index().equals(Long.toString(index))) {
      return new Answer(200, Captures.text(capture), Long.toString(index), holdMillis);
    }
    return Answer.ok(capture, index);
  }

  @Test
  void theFirstAnswerIsThereWhenBuildReturnsAndBlockingQueriesCarryIndexAndWait() {
    agent.script(r -> blocking(r, "health-all", 48, 300));
    start(source());
    assertThat(routable()).containsExactlyInAnyOrder("api-1", "api-2");
    await().atMost(5, TimeUnit.SECONDS).until(() -> agent.requests().size() >= 3);
    Request first = agent.requests().get(0);
    assertThat(first.index()).as("first query asks for an immediate answer").isNull();
    Request second = agent.requests().get(1);
    assertThat(second.index()).isEqualTo("48");
    assertThat(second.waitParam()).isEqualTo("1s");
    assertThat(lb.snapshot().source().problem()).isNull();
    assertThat(lb.snapshot().source().description()).contains("'api'").contains(agent.url());
  }

  @Test
  void anIndexThatGoesBackwardsResetsToZeroOnce() {
    // 94 first, then the agent "restarted": 13 from then on.
    agent.script(
        r -> r.number() == 0 ? Answer.ok("health-all", 94) : blocking(r, "health-all", 13, 200));
    start(source());
    await().atMost(5, TimeUnit.SECONDS).until(() -> agent.requests().size() >= 5);
    List<String> sent = agent.requests().stream().map(Request::index).toList();
    assertThat(sent.subList(0, 5)).containsExactly(null, "94", null, "13", "13");
  }

  @Test
  void indexZeroOrMissingIsNeverSentBackAndTheLoopIsRateLimited() {
    // An agent that always answers at once with index 0, then without an index.
    agent.script(
        r -> new Answer(200, Captures.text("health-all"), r.number() % 2 == 0 ? "0" : null, 0));
    start(source().minQueryInterval(Duration.ofMillis(250)));
    long t0 = System.nanoTime();
    await().pollDelay(Duration.ofSeconds(2)).until(() -> true);
    double seconds = (System.nanoTime() - t0) / 1e9;
    List<Request> sent = agent.requests();
    assertThat(sent.subList(1, sent.size())).extracting(Request::index).containsOnly("1");
    // At most one query per 250 ms (plus the first), never a spin.
    assertThat(sent.size()).isLessThanOrEqualTo((int) (seconds / 0.25) + 2);
    assertThat(routable()).containsExactlyInAnyOrder("api-1", "api-2");
  }

  @Test
  void errorsKeepTheLastGoodSetBackOffWithJitterAndRecover() {
    agent.script(
        r ->
            r.number() == 0
                ? Answer.ok("health-all", 48)
                : new Answer(500, "rpc error: No cluster leader", "48", 0));
    start(source());
    await().atMost(5, TimeUnit.SECONDS).until(() -> agent.requests().size() >= 7);
    assertThat(routable()).containsExactlyInAnyOrder("api-1", "api-2");
    try (var lease = lb.acquire(RequestContext.none())) {
      lease.success();
    }
    assertThat(lb.snapshot().source().problem())
        .contains("keeping the last good set")
        .contains("500");
    assertThat(lb.snapshot().source().staleness()).isGreaterThan(Duration.ofMillis(300));
    // Backoff: gaps grow from ~100 ms towards the 800 ms cap, and are not all equal (jitter).
    List<Request> sent = agent.requests();
    long firstGap = sent.get(2).atNanos() - sent.get(1).atNanos();
    long laterGap = sent.get(6).atNanos() - sent.get(5).atNanos();
    assertThat(firstGap).isLessThan(TimeUnit.MILLISECONDS.toNanos(300));
    assertThat(laterGap).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(390));
    assertThat(laterGap).isLessThan(TimeUnit.MILLISECONDS.toNanos(1_500));

    agent.script(r -> blocking(r, "blk-change-warn", 49, 300));
    await().atMost(5, TimeUnit.SECONDS).until(() -> lb.snapshot().source().problem() == null);
    assertThat(lb.snapshot().endpoint("api-1").orElseThrow().configuredWeight())
        .as("the change made during the outage arrives")
        .isEqualTo(1);
    assertThat(lb.snapshot().source().staleness()).isLessThan(Duration.ofSeconds(1));
  }

  @Test
  void garbageAndAMissingBodyKeepTheLastGoodSet() {
    agent.script(
        r ->
            switch (r.number()) {
              case 0 -> Answer.ok("health-all", 48);
              case 1 -> new Answer(200, "[{\"Node\": {\"Node\": ", "49", 0);
              default -> new Answer(200, "", "50", 0);
            });
    start(source());
    await().atMost(5, TimeUnit.SECONDS).until(() -> agent.requests().size() >= 4);
    assertThat(routable()).containsExactlyInAnyOrder("api-1", "api-2");
    assertThat(lb.snapshot().source().problem()).contains("keeping the last good set");
  }

  @Test
  void aHangPastTheReadTimeoutIsAnErrorNotAStall() {
    // wait 1 s -> read timeout 1 s + 62 ms + 3 s; the fake hangs 20 s.
    agent.script(
        r -> r.number() == 0 ? Answer.ok("health-all", 48) : new Answer(200, "[]", "48", 20_000));
    start(source());
    long t0 = System.nanoTime();
    await().atMost(15, TimeUnit.SECONDS).until(() -> lb.snapshot().source().problem() != null);
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(tookMillis).as("our read timeout, not the client's").isBetween(3_500L, 6_000L);
    assertThat(lb.snapshot().source().problem()).contains("keeping the last good set");
    assertThat(routable()).containsExactlyInAnyOrder("api-1", "api-2");
  }

  @Test
  void anEmptyAnswerIsHeldForTheConfirmationPeriodThenBelieved() {
    agent.script(
        r ->
            r.number() == 0 ? Answer.ok("health-all", 48) : blocking(r, "health-unknown", 60, 200));
    start(source().shrinkGuard(50, Duration.ofMillis(1_500)));
    await().atMost(5, TimeUnit.SECONDS).until(() -> lb.snapshot().source().problem() != null);
    assertThat(lb.snapshot().source().problem()).contains("holding").contains("no instances");
    assertThat(routable()).containsExactlyInAnyOrder("api-1", "api-2");
    await().atMost(5, TimeUnit.SECONDS).until(() -> lb.snapshot().endpoints().isEmpty());
    assertThat(lb.snapshot().source().problem()).isNull();
  }

  @Test
  void aShrinkWithinTheLimitIsBelievedAtOnceAndDrains() {
    agent.script(
        r ->
            r.number() == 0
                ? Answer.ok("health-all", 48)
                : blocking(r, "blk-change-deregister", 53, 300));
    start(source().shrinkGuard(50, Duration.ofMinutes(5)));
    await().atMost(3, TimeUnit.SECONDS).until(() -> lb.snapshot().endpoint("api-2").isEmpty());
    // The remaining instance's TTL check is critical in that capture.
    assertThat(lb.snapshot().endpoint("api-1").orElseThrow().state())
        .isEqualTo(EndpointState.UNHEALTHY);
  }

  @Test
  void anUnreachableAgentDoesNotFailTheStart() {
    agent.close();
    long t0 = System.nanoTime();
    start(source().startupTimeout(Duration.ofMillis(500)));
    assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(3));
    assertThat(lb.snapshot().endpoints()).isEmpty();
    assertThat(lb.snapshot().source().staleness()).as("never had an answer").isNull();
    await().atMost(3, TimeUnit.SECONDS).until(() -> lb.snapshot().source().problem() != null);
  }

  @Test
  void stalenessStaysNearZeroWhileBlockingAndKeepsGrowingOnceTheAgentIsUnreachable() {
    // Healthy: every query blocks 800 ms at the current index. The age of the last answer would
    // climb to ~0.8 s each time; the set is current throughout, so staleness stays near 0.
    agent.script(r -> blocking(r, "health-all", 48, 800));
    start(source());
    List<Duration> healthy = new java.util.ArrayList<>();
    await()
        .atMost(10, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              healthy.add(lb.snapshot().source().staleness());
              return agent.requests().size() >= 4;
            });
    assertThat(healthy).allMatch(d -> d != null && d.compareTo(Duration.ofMillis(300)) < 0);

    // The agent answers one last time (as a leaving agent does), then its port closes.
    agent.script(r -> Answer.ok("health-all", 49));
    await().atMost(5, TimeUnit.SECONDS).until(() -> agent.requests().size() >= 6);
    agent.close();
    List<Duration> outage = new java.util.ArrayList<>();
    await()
        .atMost(10, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              outage.add(lb.snapshot().source().staleness());
              return outage.get(outage.size() - 1).compareTo(Duration.ofMillis(2_500)) > 0;
            });
    assertThat(lb.snapshot().source().problem()).contains("keeping the last good set");
    for (int i = 1; i < outage.size(); i++) {
      assertThat(outage.get(i))
          .as("sample %d of %s", i, outage)
          .isGreaterThanOrEqualTo(outage.get(i - 1));
    }
    assertThat(outage.get(0))
        .as("no drop below the healthy readings when the agent went away")
        .isGreaterThanOrEqualTo(healthy.stream().min(Duration::compareTo).orElseThrow());
  }
}
