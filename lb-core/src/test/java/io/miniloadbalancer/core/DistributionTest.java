package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each strategy's share of picks per endpoint, sequential callers, fixed seed, 100k picks.
 *
 * <p>Tolerances: round-robin is exact up to one cycle; random and the p2c/least-connections
 * tie-breaks are binomial, so 5 standard deviations of {@code sqrt(p(1-p)/N)}; hash strategies over
 * uniformly random keys add their table's quantization (ring: about 1/sqrt(points) of the share,
 * measured at worst 4 sd here; Maglev: within 1% of the share, since M >= 100 x N).
 */
class DistributionTest {

  private static final int PICKS = 100_000;
  private static final int[] WEIGHTS = {1, 7, 100, 1, 3, 20};

  @ParameterizedTest
  @ValueSource(
      strings = {"round-robin", "random", "least-connections", "least-connections-p2c", "maglev"})
  void sharesFollowWeights(String strategy) {
    Map<String, Integer> counts = pick(strategy, WEIGHTS, PICKS, 42);
    double total = 0;
    for (int w : WEIGHTS) {
      total += w;
    }
    for (int i = 0; i < WEIGHTS.length; i++) {
      double expected = WEIGHTS[i] / total;
      double actual = counts.getOrDefault("e" + i, 0) / (double) PICKS;
      double tolerance = tolerance(strategy, expected);
      assertThat(actual)
          .as("%s: share of e%d (weight %d)", strategy, i, WEIGHTS[i])
          .isCloseTo(expected, org.assertj.core.data.Offset.offset(tolerance));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"ring-hash"})
  void ringSharesFollowWeightsWithinRingSpread(String strategy) {
    Map<String, Integer> counts = pick(strategy, WEIGHTS, PICKS, 42);
    double total = 0;
    for (int w : WEIGHTS) {
      total += w;
    }
    for (int i = 0; i < WEIGHTS.length; i++) {
      double expected = WEIGHTS[i] / total;
      double actual = counts.getOrDefault("e" + i, 0) / (double) PICKS;
      // The lightest endpoint gets >= 100 points: spread about 1/sqrt(points) of its share.
      double points = 100.0 * WEIGHTS[i];
      double tolerance = 4 * expected / Math.sqrt(points) + tolerance("random", expected);
      assertThat(actual)
          .as("ring-hash: share of e%d (weight %d)", i, WEIGHTS[i])
          .isCloseTo(expected, org.assertj.core.data.Offset.offset(tolerance));
    }
  }

  @Test
  void ewmaSpreadsEvenlyOverEqualEndpointsAndAvoidsASlowOne() {
    FakeTicker ticker = new FakeTicker();
    LoadBalancer lb =
        LoadBalancer.builder()
            .endpoints(TestPools.uniform(4))
            .strategy(Strategies.P2C_EWMA)
            .ticker(ticker)
            .randomSource(TestPools.seeded(7))
            .build();
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < PICKS; i++) {
      try (Lease lease = lb.acquire(RequestContext.none())) {
        String id = lease.endpoint().id();
        counts.merge(id, 1, Integer::sum);
        // e3 answers in 50 ms, the others in 1 ms; time moves 1 ms per request.
        long latency = id.equals("e3") ? 50_000_000L : 1_000_000L;
        lease.complete(Outcome.SUCCESS, latency);
      }
      ticker.advance(java.time.Duration.ofMillis(1));
    }
    for (int i = 0; i < 3; i++) {
      assertThat(counts.get("e" + i) / (double) PICKS)
          .as("p2c-ewma share of fast e%d", i)
          .isCloseTo(1 / 3.0, org.assertj.core.data.Offset.offset(0.02));
    }
    // p2c only picks e3 when both draws are e3 (4 redraws make that rare), or after its EWMA
    // decayed below the others' again.
    assertThat(counts.getOrDefault("e3", 0) / (double) PICKS).as("slow e3").isLessThan(0.02);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 7, 100})
  void roundRobinIsExactAndSmoothForWeight(int heavy) {
    LoadBalancer lb =
        LoadBalancer.builder()
            .endpoints(TestPools.weighted(heavy, 1, 1))
            .randomSource(TestPools.seeded(1))
            .build();
    int cycle = heavy + 2;
    Map<String, Integer> counts = new HashMap<>();
    int longestRunOfOthers = 0;
    int run = 0;
    for (int i = 0; i < cycle * 10; i++) {
      try (Lease lease = lb.acquire(RequestContext.none())) {
        String id = lease.endpoint().id();
        counts.merge(id, 1, Integer::sum);
        run = id.equals("e0") ? 0 : run + 1;
        longestRunOfOthers = Math.max(longestRunOfOthers, run);
      }
    }
    assertThat(counts)
        .containsEntry("e0", heavy * 10)
        .containsEntry("e1", 10)
        .containsEntry("e2", 10);
    // Smooth: the two light endpoints never come back to back more than twice in a row.
    assertThat(longestRunOfOthers).isLessThanOrEqualTo(2);
  }

  private static double tolerance(String strategy, double p) {
    if (strategy.equals("round-robin")) {
      return 1e-4;
    }
    double binomial = 5 * Math.sqrt(p * (1 - p) / PICKS);
    return strategy.equals("maglev") ? binomial + 0.01 * p : binomial;
  }

  static Map<String, Integer> pick(String strategy, int[] weights, int picks, long seed) {
    List<Endpoint> endpoints = TestPools.weighted(weights);
    LoadBalancer lb =
        LoadBalancer.builder()
            .endpoints(endpoints)
            .strategy(strategy)
            .randomSource(TestPools.seeded(seed))
            .build();
    java.util.SplittableRandom keys = new java.util.SplittableRandom(seed + 1);
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < picks; i++) {
      RequestContext context = RequestContext.ofKey("user-" + keys.nextLong());
      try (Lease lease = lb.acquire(context)) {
        counts.merge(lease.endpoint().id(), 1, Integer::sum);
        lease.success();
      }
    }
    return counts;
  }
}
