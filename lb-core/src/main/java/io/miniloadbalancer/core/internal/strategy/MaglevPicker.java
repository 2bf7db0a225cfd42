package io.miniloadbalancer.core.internal.strategy;

import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.strategy.Picker;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Weighted Maglev hashing (Eisenbud et al., NSDI'16; Envoy's weighted variant), with optional
 * bounded loads.
 *
 * <h2>Design</h2>
 *
 * <p>A lookup table of prime size {@code M >= max(minTableSize, 100 x endpoints)}; each endpoint
 * walks its own permutation of the slots ({@code offset + j x skip mod M}, both from hashes of its
 * id) and claims the next free slot whenever its turn comes; an endpoint of weight {@code w} gets a
 * turn in {@code w / maxWeight} of the rounds. The result is near-perfect balance (the paper's M
 * &gt; 100 x N rule) and minimal disruption when membership changes. A pick is one multiply-shift
 * and one array read. With bounded loads, a full endpoint passes the key on to the owner of the
 * next slot.
 */
final class MaglevPicker implements Picker {

  private static final long OFFSET_SEED = 0x9E3779B97F4A7C15L;
  private static final long SKIP_SEED = 0xC2B2AE3D27D4EB4FL;

  private final EndpointRuntime[] endpoints;
  private final int[] table;
  private final LongSupplier random;
  private final @Nullable BoundedLoad boundedLoad;
  private final double[] admission;
  private final boolean walks;

  /**
   * @param weights configured weights (the table's shape)
   * @param admission per endpoint, the share of its keys it takes now (slow start; 1 = all)
   */
  MaglevPicker(
      EndpointRuntime[] endpoints, double[] weights, double[] admission, StrategyConfig config) {
    this.endpoints = endpoints;
    this.random = config.random();
    int size = nextPrime(Math.max(config.maglevMinTableSize(), 100L * endpoints.length));
    this.table = buildTable(endpoints, weights, size);
    this.boundedLoad =
        config.hashBalanceFactor() > 0
            ? new BoundedLoad(weights, config.hashBalanceFactor(), config.totalInFlight())
            : null;
    this.admission = admission;
    this.walks = boundedLoad != null || RingHashPicker.ramping(admission);
  }

  private static int[] buildTable(EndpointRuntime[] endpoints, double[] weights, int m) {
    int n = endpoints.length;
    double max = 0;
    for (double w : weights) {
      max = Math.max(max, w);
    }
    int[] offset = new int[n];
    int[] skip = new int[n];
    int[] next = new int[n];
    double[] normalized = new double[n];
    double[] target = new double[n];
    for (int i = 0; i < n; i++) {
      String id = endpoints[i].id();
      offset[i] = Hashing.reduce(Hashing.hash64(id, OFFSET_SEED), m);
      skip[i] = Hashing.reduce(Hashing.hash64(id, SKIP_SEED), m - 1) + 1;
      normalized[i] = weights[i] / max;
    }
    int[] table = new int[m];
    java.util.Arrays.fill(table, -1);
    int filled = 0;
    for (long round = 1; filled < m; round++) {
      for (int i = 0; i < n && filled < m; i++) {
        if (round * normalized[i] < target[i]) {
          continue;
        }
        target[i] += 1.0;
        int slot = (int) ((offset[i] + (long) next[i] * skip[i]) % m);
        while (table[slot] >= 0) {
          next[i]++;
          slot = (int) ((offset[i] + (long) next[i] * skip[i]) % m);
        }
        table[slot] = i;
        next[i]++;
        filled++;
      }
    }
    return table;
  }

  static int nextPrime(long atLeast) {
    long candidate = Math.max(2, atLeast);
    while (!isPrime(candidate)) {
      candidate++;
    }
    if (candidate > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("maglev table too large: " + candidate);
    }
    return (int) candidate;
  }

  private static boolean isPrime(long x) {
    if (x < 4) {
      return x >= 2;
    }
    if (x % 2 == 0) {
      return false;
    }
    for (long d = 3; d * d <= x; d += 2) {
      if (x % d == 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int pick(RequestContext context, long nowNanos, int attempt) {
    long hash = context.hasKey() ? context.keyHash() : Hashing.mix(random.getAsLong());
    if (attempt > 0) {
      hash = Hashing.mix(hash + attempt);
    }
    int slot = Hashing.reduce(hash, table.length);
    int owner = table[slot];
    if (!walks) {
      return owner;
    }
    BoundedLoad load = boundedLoad;
    long total = load == null ? 0 : load.total();
    for (int step = 0; step < table.length; step++) {
      EndpointRuntime candidate = endpoints[owner];
      if (BoundedLoad.admits(admission[owner], hash)
          && (load == null || load.hasRoom(candidate, owner, total))) {
        return owner;
      }
      if (++slot == table.length) {
        slot = 0;
      }
      owner = table[slot];
    }
    return table[Hashing.reduce(hash, table.length)];
  }

  @Override
  public boolean readsTotalInFlight() {
    return boundedLoad != null;
  }

  int tableSize() {
    return table.length;
  }

  /** How many slots each endpoint owns (for tests). */
  int[] slotCounts() {
    int[] counts = new int[endpoints.length];
    for (int owner : table) {
      counts[owner]++;
    }
    return counts;
  }

  @Override
  public String toString() {
    return "maglev[" + endpoints.length + " endpoints, table " + table.length + "]";
  }
}
