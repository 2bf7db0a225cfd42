package io.miniloadbalancer.core.internal.strategy;

import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.strategy.Picker;
import java.util.function.LongSupplier;

/** Weighted random: one random long and one alias-table lookup per pick. */
final class WeightedRandomPicker implements Picker {

  private final AliasTable alias;
  private final LongSupplier random;

  WeightedRandomPicker(double[] weights, LongSupplier random) {
    this.alias = new AliasTable(weights);
    this.random = random;
  }

  @Override
  public int pick(RequestContext context, long nowNanos, int attempt) {
    return alias.sample(random.getAsLong());
  }
}
