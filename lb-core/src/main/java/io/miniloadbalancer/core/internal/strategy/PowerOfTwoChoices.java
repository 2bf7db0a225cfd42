package io.miniloadbalancer.core.internal.strategy;

import java.util.function.LongSupplier;

/**
 * Draws two distinct candidates by weight for power-of-two-choices strategies. With one endpoint
 * both are the same; with more, a second draw that repeats the first is retried a few times, then
 * accepted (only likely when one endpoint holds nearly all the weight).
 */
final class PowerOfTwoChoices {

  private static final int REDRAWS = 4;

  private final AliasTable alias;
  private final LongSupplier random;

  PowerOfTwoChoices(double[] weights, LongSupplier random) {
    this.alias = new AliasTable(weights);
    this.random = random;
  }

  int first() {
    return alias.sample(random.getAsLong());
  }

  int second(int first) {
    int second = alias.sample(random.getAsLong());
    for (int k = 0; second == first && k < REDRAWS && alias.size() > 1; k++) {
      second = alias.sample(random.getAsLong());
    }
    return second;
  }
}
