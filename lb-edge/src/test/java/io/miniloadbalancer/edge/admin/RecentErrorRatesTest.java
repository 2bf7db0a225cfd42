package io.miniloadbalancer.edge.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.BreakerState;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointSnapshot;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.SourceSnapshot;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The recent error rate: counter differences over a window of samples, driven by a fake clock. */
class RecentErrorRatesTest {

  private static final long SECOND = 1_000_000_000L;

  private static BalancerSnapshot snapshot(long nanos, long okA, long failedA, long overloadedA) {
    EndpointSnapshot a =
        new EndpointSnapshot(
            new Endpoint("a", "127.0.0.1", 1, 1, "", Map.of()),
            EndpointState.HEALTHY,
            true,
            1,
            1,
            1,
            0,
            1,
            okA,
            failedA,
            overloadedA,
            0,
            0,
            BreakerState.CLOSED,
            0,
            0,
            0,
            "not probed",
            null);
    EndpointSnapshot idle =
        new EndpointSnapshot(
            new Endpoint("idle", "127.0.0.1", 2, 1, "", Map.of()),
            EndpointState.HEALTHY,
            true,
            1,
            1,
            1,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            BreakerState.CLOSED,
            0,
            0,
            0,
            "not probed",
            null);
    return new BalancerSnapshot(
        "p",
        "round-robin",
        null,
        false,
        "zone-aware routing off",
        0,
        List.of(a, idle),
        List.of(),
        List.of(),
        SourceSnapshot.alwaysFresh("static"),
        nanos,
        Instant.EPOCH);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> endpoint(Map<String, Object> rates, String id) {
    return (Map<String, Object>) ((Map<String, Object>) rates.get("endpoints")).get(id);
  }

  @Test
  void lifetimeCountsDoNotHideAFreshFault() {
    RecentErrorRates rates = new RecentErrorRates();
    // Long clean history: 100 000 successes before anyone looks.
    Map<String, Object> first = rates.observe(snapshot(0, 100_000, 0, 0), 0);
    assertThat(first.get("windowSeconds")).isEqualTo(0.0);
    assertThat(endpoint(first, "a").get("rate")).as("nothing served in an empty window").isNull();
    // One poll a second; from second 5 on, half the requests fail (some as overload).
    long ok = 100_000;
    long failed = 0;
    long overloaded = 0;
    Map<String, Object> last = first;
    for (int s = 1; s <= 15; s++) {
      ok += 10;
      if (s > 5) {
        failed += 8;
        overloaded += 2;
      }
      last = rates.observe(snapshot(s * SECOND, ok, failed, overloaded), s * SECOND);
    }
    assertThat(last.get("windowSeconds")).isEqualTo(10.0);
    // The window is seconds 5..15: 100 ok, 100 errors.
    assertThat(endpoint(last, "a"))
        .containsEntry("requests", 200L)
        .containsEntry("errors", 100L)
        .containsEntry("rate", 0.5);
    assertThat(endpoint(last, "idle")).containsEntry("requests", 0L).containsEntry("rate", null);
  }

  @Test
  void afterAQuietSpellTheAnswerSaysWhichWindowItCovers() {
    RecentErrorRates rates = new RecentErrorRates();
    rates.observe(snapshot(0, 0, 0, 0), 0);
    Map<String, Object> later = rates.observe(snapshot(60 * SECOND, 30, 10, 0), 60 * SECOND);
    assertThat(later.get("windowSeconds")).isEqualTo(60.0);
    assertThat(endpoint(later, "a")).containsEntry("requests", 40L).containsEntry("rate", 0.25);
    // Reads closer than a second apart do not add samples (the memory stays bounded).
    Map<String, Object> soon =
        rates.observe(snapshot(60 * SECOND + SECOND / 2, 30, 10, 0), 60 * SECOND + SECOND / 2);
    assertThat(soon.get("windowSeconds")).isEqualTo(60.5);
  }
}
