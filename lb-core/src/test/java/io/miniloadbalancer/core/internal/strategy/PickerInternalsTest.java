package io.miniloadbalancer.core.internal.strategy;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class PickerInternalsTest {

  @Property(tries = 200)
  void roundRobinModuloMatchesTheDivision(
      @ForAll @IntRange(min = 1, max = 1 << 20) int length, @ForAll @IntRange(min = 0) int i) {
    double[] weights = new double[Math.min(length, 3)];
    Arrays.fill(weights, 1);
    SmoothRoundRobinPicker picker =
        new SmoothRoundRobinPicker(runtimes(weights.length), weights, 0);
    // mod() uses the schedule length, which for equal weights is the endpoint count.
    assertThat(picker.mod(i)).isEqualTo(i % weights.length);
    assertThat(modWithLength(length, i)).isEqualTo(i % length);
  }

  private static int modWithLength(int length, int i) {
    long magic = Long.divideUnsigned(-1L, length) + 1;
    long fraction = magic * i;
    return (int) (Math.multiplyHigh(fraction, length) + ((fraction >> 63) & length));
  }

  @Test
  void roundRobinScheduleSpreadsEachEndpointEvenly() {
    int[] schedule = SmoothRoundRobinPicker.buildSchedule(new double[] {5, 1, 1});
    assertThat(schedule).hasSize(7);
    assertThat(Arrays.stream(schedule).filter(x -> x == 0).count()).isEqualTo(5);
    // b and c are not adjacent to each other's turn more than once and never at the cycle's
    // edges.
    assertThat(schedule[0]).isZero();
    assertThat(schedule[6]).isZero();
  }

  @Test
  void roundRobinScheduleForHugeUniqueWeightsIsBoundedAndProportional() {
    double[] weights = new double[1000];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = 1 + i * 997; // unique, large, coprime-ish: the gcd does not help
    }
    int[] schedule = SmoothRoundRobinPicker.buildSchedule(weights);
    assertThat(schedule.length).isLessThanOrEqualTo(SmoothRoundRobinPicker.MAX_SCHEDULE + 1000);
    int[] counts = new int[weights.length];
    for (int s : schedule) {
      counts[s]++;
    }
    double sum = Arrays.stream(weights).sum();
    for (int i = 0; i < weights.length; i += 97) {
      double expected = weights[i] / sum * schedule.length;
      assertThat((double) counts[i]).isCloseTo(expected, org.assertj.core.data.Offset.offset(1.0));
    }
  }

  @Property(tries = 20)
  void bucketedRingLookupEqualsABinarySearch(
      @ForAll @IntRange(min = 1, max = 200) int n, @ForAll long seed) {
    double[] weights = new double[n];
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < n; i++) {
      weights[i] = 1 + random.nextInt(10);
    }
    RingHashPicker picker = new RingHashPicker(runtimes(n), weights, ones(n), config(0));
    long[] ring = picker.ringCopy();
    for (int k = 0; k < 2_000; k++) {
      long hash = k < 4 ? new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0, -1}[k] : random.nextLong();
      long position = hash & ~0xFFFFL;
      int i = Arrays.binarySearch(ring, position);
      int successor = i >= 0 ? i : -i - 1;
      while (successor > 0 && successor < ring.length && ring[successor - 1] >= position) {
        successor--;
      }
      if (successor == ring.length) {
        successor = 0;
      }
      assertThat(picker.ownerIndexFor(hash)).isEqualTo((int) (ring[successor] & 0xFFFF));
    }
  }

  @Test
  void ringGivesTheLightestEndpointAtLeastAHundredPoints() {
    RingHashPicker picker =
        new RingHashPicker(runtimes(3), new double[] {1, 7, 100}, ones(3), config(0));
    long[] ring = picker.ringCopy();
    long lightest = Arrays.stream(ring).filter(p -> (p & 0xFFFF) == 0).count();
    assertThat(lightest).isGreaterThanOrEqualTo(100);
    assertThat(ring.length).isBetween(10_000, 11_000);
  }

  @Test
  void maglevTableIsPrimeAboveAHundredPerEndpointAndBalanced() {
    int n = 1000;
    double[] weights = new double[n];
    Arrays.fill(weights, 1);
    MaglevPicker picker = new MaglevPicker(runtimes(n), weights, ones(n), config(0));
    assertThat(picker.tableSize()).isEqualTo(100_003); // the first prime >= 100,000
    int[] counts = picker.slotCounts();
    double mean = picker.tableSize() / (double) n;
    for (int c : counts) {
      assertThat((double) c).isCloseTo(mean, org.assertj.core.data.Offset.offset(mean * 0.02));
    }
  }

  @Test
  void maglevHonoursWeights() {
    MaglevPicker picker =
        new MaglevPicker(runtimes(3), new double[] {1, 7, 100}, ones(3), config(0));
    int[] counts = picker.slotCounts();
    double total = picker.tableSize();
    assertThat(counts[0] / total).isCloseTo(1 / 108.0, org.assertj.core.data.Offset.offset(0.001));
    assertThat(counts[1] / total).isCloseTo(7 / 108.0, org.assertj.core.data.Offset.offset(0.001));
  }

  @Test
  void aliasTableSamplesInProportion() {
    AliasTable alias = new AliasTable(new double[] {1, 7, 100, 0.5});
    SplittableRandom random = new SplittableRandom(5);
    int[] counts = new int[4];
    int draws = 1_000_000;
    for (int i = 0; i < draws; i++) {
      counts[alias.sample(random.nextLong())]++;
    }
    double total = 108.5;
    assertThat(counts[0] / (double) draws)
        .isCloseTo(1 / total, org.assertj.core.data.Offset.offset(0.0005));
    assertThat(counts[3] / (double) draws)
        .isCloseTo(0.5 / total, org.assertj.core.data.Offset.offset(0.0004));
    assertThat(counts[2] / (double) draws)
        .isCloseTo(100 / total, org.assertj.core.data.Offset.offset(0.002));
  }

  @Test
  void hashIsStableAcrossReleases() {
    // Pinned values: changing the hash would remap every key of every deployed fleet.
    assertThat(Long.toHexString(Hashing.hash64("", 0))).isEqualTo("efd01f60ba992926");
    assertThat(Long.toHexString(Hashing.hash64("user-42", 0))).isEqualTo("a39532c7ab051e8d");
    assertThat(Long.toHexString(Hashing.hash64("e0", 3))).isEqualTo("59612ea12bc6df3e");
  }

  private static final EndpointRuntime.Signals NO_SIGNALS =
      new EndpointRuntime.Signals() {
        @Override
        public void onIdle(EndpointRuntime endpoint) {}

        @Override
        public void onConsecutiveFailures(EndpointRuntime endpoint, int consecutive) {}

        @Override
        public void onTrialResult(EndpointRuntime endpoint, boolean success) {}

        @Override
        public void onOverloaded(EndpointRuntime endpoint, long untilNanos) {}
      };

  private static EndpointRuntime[] runtimes(int n) {
    EndpointRuntime[] r = new EndpointRuntime[n];
    for (int i = 0; i < n; i++) {
      r[i] =
          new EndpointRuntime(
              Endpoint.of("e" + i, "127.0.0.1", 10_000 + i),
              EndpointState.HEALTHY,
              1e10,
              0,
              0,
              0,
              0,
              NO_SIGNALS);
    }
    return r;
  }

  private static double[] ones(int n) {
    double[] a = new double[n];
    Arrays.fill(a, 1.0);
    return a;
  }

  private static StrategyConfig config(int factor) {
    SplittableRandom random = new SplittableRandom(1);
    return new StrategyConfig(
        StrategyRegistry.standard(),
        random::nextLong,
        new LongAdder(),
        factor,
        500,
        1024,
        1 << 20,
        65_537);
  }
}
