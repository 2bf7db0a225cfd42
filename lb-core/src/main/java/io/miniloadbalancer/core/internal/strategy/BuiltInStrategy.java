package io.miniloadbalancer.core.internal.strategy;

import io.miniloadbalancer.core.Strategies;
import io.miniloadbalancer.core.strategy.EndpointTable;
import io.miniloadbalancer.core.strategy.Picker;
import io.miniloadbalancer.core.strategy.Strategy;
import java.util.List;

/**
 * One of the seven strategies lb-core ships, registered through the same {@link Strategy} door as a
 * user's. Its pickers read the endpoints' runtimes (EWMA, penalties, in-flight) straight from the
 * balancer's table instead of through the public view, which keeps the hot path as it was.
 */
record BuiltInStrategy(String name, Factory factory) implements Strategy {

  /** Builds a picker over the balancer's own table. */
  @FunctionalInterface
  interface Factory {
    Picker create(TableView table);
  }

  /** The seven, in {@link Strategies#names()} order. */
  static final List<Strategy> ALL =
      List.of(
          new BuiltInStrategy(
              Strategies.ROUND_ROBIN,
              t ->
                  new SmoothRoundRobinPicker(
                      t.endpoints, t.effective, t.config.random().getAsLong())),
          new BuiltInStrategy(
              Strategies.RANDOM, t -> new WeightedRandomPicker(t.effective, t.config.random())),
          new BuiltInStrategy(
              Strategies.LEAST_CONNECTIONS,
              t -> new LeastConnectionsPicker(t.endpoints, t.effective, t.config.random())),
          new BuiltInStrategy(
              Strategies.LEAST_CONNECTIONS_P2C,
              t -> new LeastConnectionsP2cPicker(t.endpoints, t.effective, t.config.random())),
          new BuiltInStrategy(
              Strategies.P2C_EWMA,
              t -> new PeakEwmaPicker(t.endpoints, t.effective, t.config.random())),
          new BuiltInStrategy(
              Strategies.RING_HASH,
              t -> new RingHashPicker(t.endpoints, t.configured, t.admission(), t.config)),
          new BuiltInStrategy(
              Strategies.MAGLEV,
              t -> new MaglevPicker(t.endpoints, t.configured, t.admission(), t.config)));

  @Override
  public Picker newPicker(EndpointTable table) {
    return factory.create(TableView.of(table, name));
  }

  @Override
  public String toString() {
    return name;
  }
}
