package io.miniloadbalancer.core;

import io.miniloadbalancer.core.strategy.EndpointTable;
import io.miniloadbalancer.core.strategy.Picker;
import io.miniloadbalancer.core.strategy.Strategy;

/**
 * A strategy found through {@code META-INF/services} (see the test resources): the first routable
 * endpoint, then the next one on each attempt the balancer asks again.
 */
public final class FirstListedStrategy implements Strategy {

  static final String NAME = "first-listed";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Picker newPicker(EndpointTable table) {
    int n = table.size();
    return (context, nowNanos, attempt) -> attempt % n;
  }
}
