package io.miniloadbalancer.core.internal.strategy;

/**
 * Walker/Vose alias table: O(1) weighted sampling from one random long, no allocation.
 *
 * <p>The top 32 bits of the random value choose a column, the low 32 bits toss the column's biased
 * coin. Column {@code i} keeps itself with probability {@code threshold[i] / 2^32}, otherwise
 * yields {@code alias[i]}.
 */
final class AliasTable {

  private static final double SCALE = 4294967296.0; // 2^32

  private final int n;
  private final long[] threshold;
  private final int[] alias;

  AliasTable(double[] weights) {
    n = weights.length;
    threshold = new long[n];
    alias = new int[n];
    double sum = 0;
    for (double w : weights) {
      sum += w;
    }
    double[] scaled = new double[n];
    int[] small = new int[n];
    int[] large = new int[n];
    int ns = 0;
    int nl = 0;
    for (int i = 0; i < n; i++) {
      scaled[i] = weights[i] * n / sum;
      if (scaled[i] < 1.0) {
        small[ns++] = i;
      } else {
        large[nl++] = i;
      }
    }
    while (ns > 0 && nl > 0) {
      int s = small[--ns];
      int l = large[--nl];
      threshold[s] = (long) (scaled[s] * SCALE);
      alias[s] = l;
      scaled[l] = (scaled[l] + scaled[s]) - 1.0;
      if (scaled[l] < 1.0) {
        small[ns++] = l;
      } else {
        large[nl++] = l;
      }
    }
    // Leftovers are 1.0 up to rounding: they always keep themselves.
    while (nl > 0) {
      int l = large[--nl];
      threshold[l] = (long) SCALE;
      alias[l] = l;
    }
    while (ns > 0) {
      int s = small[--ns];
      threshold[s] = (long) SCALE;
      alias[s] = s;
    }
  }

  int sample(long random) {
    int column = Hashing.reduce(random, n);
    return (random & 0xFFFF_FFFFL) < threshold[column] ? column : alias[column];
  }

  int size() {
    return n;
  }
}
