package io.miniloadbalancer.core;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/** Small helpers for building pools in tests. */
final class TestPools {

  private TestPools() {}

  /** Endpoints e0, e1, ... with the given weights, on distinct loopback ports. */
  static List<Endpoint> weighted(int... weights) {
    List<Endpoint> list = new ArrayList<>();
    for (int i = 0; i < weights.length; i++) {
      list.add(Endpoint.of("e" + i, "127.0.0.1", 20_000 + i).withWeight(weights[i]));
    }
    return list;
  }

  /** {@code n} endpoints of weight 1. */
  static List<Endpoint> uniform(int n) {
    int[] w = new int[n];
    java.util.Arrays.fill(w, 1);
    return weighted(w);
  }

  /** A deterministic random source (single-threaded use). */
  static LongSupplier seeded(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    return random::nextLong;
  }
}
