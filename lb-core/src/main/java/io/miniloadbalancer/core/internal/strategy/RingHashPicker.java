package io.miniloadbalancer.core.internal.strategy;

import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.strategy.Picker;
import java.util.Arrays;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Weighted consistent hashing on a ring (Karger; Envoy's {@code RING_HASH}), with optional bounded
 * loads.
 *
 * <h2>Design</h2>
 *
 * <p>Each endpoint owns points {@code hash64(id, k)} for {@code k = 0 .. points - 1}, points in
 * proportion to its weight; a key belongs to the first point at or after its hash, wrapping. Points
 * depend only on the endpoint's id, so removing one of N endpoints moves only that endpoint's keys
 * (about 1/N), and every process maps a key alike.
 *
 * <p>The ring is one sorted {@code long[]}: a point's top 48 bits are its position, its low 16 bits
 * the owner's index (so a pool holds at most 65,536 endpoints). A bucket index over the top bits of
 * the position (about one bucket per point) turns the binary search into one bucket read and, on
 * average, one comparison: O(1) per pick instead of O(log points) cache misses.
 *
 * <p>Ring size: {@code ringPointsPerEndpoint} points for an endpoint of mean weight, but at least
 * 100 for the lightest endpoint, clamped to [{@code minRingSize}, {@code maxRingSize}]. A share's
 * spread is about {@code 1/sqrt(points)}: 500 points give about 4.5%.
 */
final class RingHashPicker implements Picker {

  private static final int OWNER_BITS = 16;
  private static final long OWNER_MASK = (1L << OWNER_BITS) - 1;
  static final int MAX_ENDPOINTS = 1 << OWNER_BITS;
  private static final int MIN_POINTS_FOR_LIGHTEST = 100;

  private final EndpointRuntime[] endpoints;
  private final long[] ring;
  private final int[] buckets;
  private final int bucketShift;
  private final LongSupplier random;
  private final @Nullable BoundedLoad boundedLoad;
  private final double[] admission;
  private final boolean walks;

  /**
   * @param weights configured weights (the ring's shape)
   * @param admission per endpoint, the share of its keys it takes now (slow start; 1 = all)
   */
  RingHashPicker(
      EndpointRuntime[] endpoints, double[] weights, double[] admission, StrategyConfig config) {
    if (endpoints.length > MAX_ENDPOINTS) {
      throw new IllegalArgumentException(
          "ring-hash supports at most " + MAX_ENDPOINTS + " endpoints, got " + endpoints.length);
    }
    this.endpoints = endpoints;
    this.random = config.random();
    this.ring = buildRing(endpoints, weights, config);
    int bits = Math.max(1, 64 - Long.numberOfLeadingZeros(ring.length - 1L));
    this.bucketShift = 64 - bits;
    this.buckets = buildBuckets(ring, bits);
    this.boundedLoad =
        config.hashBalanceFactor() > 0
            ? new BoundedLoad(weights, config.hashBalanceFactor(), config.totalInFlight())
            : null;
    this.admission = admission;
    this.walks = boundedLoad != null || ramping(admission);
  }

  static boolean ramping(double[] admission) {
    for (double a : admission) {
      if (a < 1.0) {
        return true;
      }
    }
    return false;
  }

  private static long[] buildRing(
      EndpointRuntime[] endpoints, double[] weights, StrategyConfig config) {
    int n = endpoints.length;
    double sum = 0;
    double min = Double.MAX_VALUE;
    for (double w : weights) {
      sum += w;
      min = Math.min(min, w);
    }
    double perWeight =
        Math.max(config.ringPointsPerEndpoint() * n / sum, MIN_POINTS_FOR_LIGHTEST / min);
    double target = Math.min(Math.max(perWeight * sum, config.minRingSize()), config.maxRingSize());
    perWeight = target / sum;
    long[] points = new long[n];
    long total = 0;
    for (int i = 0; i < n; i++) {
      points[i] = Math.max(1L, Math.round(weights[i] * perWeight));
      total += points[i];
    }
    long[] ring = new long[(int) total];
    int r = 0;
    for (int i = 0; i < n; i++) {
      String id = endpoints[i].id();
      for (long k = 0; k < points[i]; k++) {
        ring[r++] = (Hashing.hash64(id, k) & ~OWNER_MASK) | i;
      }
    }
    Arrays.sort(ring);
    return ring;
  }

  /** {@code buckets[b]} = index of the first point whose top bits are at least {@code b}. */
  private static int[] buildBuckets(long[] ring, int bits) {
    int count = 1 << bits;
    int[] buckets = new int[count + 1];
    int shift = 64 - bits;
    int j = 0;
    for (int b = 0; b < count; b++) {
      long start = ((long) b << shift) ^ Long.MIN_VALUE;
      while (j < ring.length && ring[j] < start) {
        j++;
      }
      buckets[b] = j;
    }
    buckets[count] = ring.length;
    return buckets;
  }

  @Override
  public int pick(RequestContext context, long nowNanos, int attempt) {
    long hash = context.hasKey() ? context.keyHash() : Hashing.mix(random.getAsLong());
    if (attempt > 0) {
      hash = Hashing.mix(hash + attempt);
    }
    int position = find(hash);
    int owner = (int) (ring[position] & OWNER_MASK);
    if (!walks) {
      return owner;
    }
    return walk(position, owner, hash);
  }

  private int find(long hash) {
    long position = hash & ~OWNER_MASK;
    int b = (int) ((position ^ Long.MIN_VALUE) >>> bucketShift);
    int i = buckets[b];
    int end = buckets[b + 1];
    while (i < end && ring[i] < position) {
      i++;
    }
    return i == ring.length ? 0 : i;
  }

  private int walk(int position, int firstOwner, long hash) {
    BoundedLoad load = boundedLoad;
    long total = load == null ? 0 : load.total();
    int owner = firstOwner;
    for (int step = 0; step < ring.length; step++) {
      EndpointRuntime candidate = endpoints[owner];
      if (BoundedLoad.admits(admission[owner], hash)
          && (load == null || load.hasRoom(candidate, owner, total))) {
        return owner;
      }
      if (++position == ring.length) {
        position = 0;
      }
      owner = (int) (ring[position] & OWNER_MASK);
    }
    return firstOwner;
  }

  @Override
  public boolean readsTotalInFlight() {
    return boundedLoad != null;
  }

  int ringSize() {
    return ring.length;
  }

  /** The owner index of the point {@link #pick} would start from (for tests). */
  int ownerIndexFor(long hash) {
    return (int) (ring[find(hash)] & OWNER_MASK);
  }

  /** A copy of the sorted ring (for tests). */
  long[] ringCopy() {
    return ring.clone();
  }

  @Override
  public String toString() {
    return "ring-hash[" + endpoints.length + " endpoints, " + ring.length + " points]";
  }
}
