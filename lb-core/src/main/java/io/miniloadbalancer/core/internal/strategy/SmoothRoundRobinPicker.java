package io.miniloadbalancer.core.internal.strategy;

import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.strategy.Picker;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Smooth weighted round-robin from a precomputed schedule.
 *
 * <h2>Design</h2>
 *
 * <p>The schedule is one cycle of picks in which endpoint {@code i} appears {@code c_i} times, with
 * its {@code k}-th appearance at the position of deadline {@code (k + 1/2) / c_i}: earliest
 * deadline first, so each endpoint's turns are spread evenly through the cycle (weights 5, 1, 1
 * give {@code a a a b c a a}, not {@code a a a a a b c}). Picking is one atomic increment and two
 * array reads, whatever the weights: the cost is independent of weight magnitude (unlike scanning
 * schemes such as nginx's, which are O(n) per pick, or Armeria's old one, O(sum of weights)).
 *
 * <p>Counts are the weights divided by their greatest common divisor when the cycle then fits in
 * {@value #MAX_SCHEDULE} entries; otherwise they are scaled down to fit, each endpoint keeping at
 * least one slot. The relative error of a share is then at most about {@code n / (2 x
 * MAX_SCHEDULE)} of the total, documented in the README. The counter starts at a random offset so a
 * fleet of clients that rebuilt their tables together does not pick in lock step.
 */
final class SmoothRoundRobinPicker implements Picker {

  static final int MAX_SCHEDULE = 1 << 16;

  private final EndpointRuntime[] endpoints;
  private final int[] schedule;
  private final long length;
  private final long modMagic;
  private final AtomicInteger next;

  SmoothRoundRobinPicker(EndpointRuntime[] endpoints, double[] weights, long randomStart) {
    this.endpoints = endpoints;
    this.schedule = buildSchedule(weights);
    this.length = schedule.length;
    this.modMagic = Long.divideUnsigned(-1L, length) + 1;
    this.next = new AtomicInteger((int) (randomStart & Integer.MAX_VALUE));
  }

  @Override
  public int pick(RequestContext context, long nowNanos, int attempt) {
    int i = next.getAndIncrement() & Integer.MAX_VALUE;
    return schedule[mod(i)];
  }

  /**
   * {@code i % length} without a division (Lemire, Kaser and Kurz, "Faster remainder by direct
   * computation", 2019): exact for {@code 0 <= i < 2^31} and {@code length < 2^31}. An integer
   * division costs about as much as the rest of the pick.
   */
  int mod(int i) {
    long fraction = modMagic * i;
    // Unsigned high half of fraction * length, from the signed one (length is positive).
    return (int) (Math.multiplyHigh(fraction, length) + ((fraction >> 63) & length));
  }

  static int[] buildSchedule(double[] weights) {
    int n = weights.length;
    long[] counts = slotCounts(weights);
    long total = 0;
    boolean uniform = true;
    for (long c : counts) {
      total += c;
      uniform &= c == counts[0];
    }
    if (uniform) {
      int[] identity = new int[n];
      Arrays.setAll(identity, i -> i);
      return identity;
    }
    // Key = deadline in the top 44 bits (fixed point, 40 fractional bits), endpoint index
    // below.
    long[] keys = new long[(int) total];
    int k = 0;
    for (int i = 0; i < n; i++) {
      for (long j = 0; j < counts[i]; j++) {
        long deadline = (long) ((j + 0.5) / counts[i] * 0x1p40);
        keys[k++] = deadline << 20 | i;
      }
    }
    Arrays.sort(keys);
    int[] schedule = new int[keys.length];
    for (int j = 0; j < keys.length; j++) {
      schedule[j] = (int) (keys[j] & 0xFFFFF);
    }
    return schedule;
  }

  private static long[] slotCounts(double[] weights) {
    int n = weights.length;
    long[] counts = new long[n];
    boolean integral = true;
    long gcd = 0;
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += weights[i];
      integral &= weights[i] == Math.rint(weights[i]) && weights[i] >= 1;
      if (integral) {
        counts[i] = (long) weights[i];
        gcd = gcd(gcd, counts[i]);
      }
    }
    if (integral) {
      long total = 0;
      for (int i = 0; i < n; i++) {
        counts[i] /= gcd;
        total += counts[i];
      }
      if (total <= Math.max(MAX_SCHEDULE, n)) {
        return counts;
      }
    }
    int budget = Math.max(MAX_SCHEDULE, n);
    for (int i = 0; i < n; i++) {
      counts[i] = Math.max(1L, Math.round(weights[i] * budget / sum));
    }
    return counts;
  }

  private static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  @Override
  public String toString() {
    return "round-robin[" + endpoints.length + " endpoints, cycle " + schedule.length + "]";
  }
}
