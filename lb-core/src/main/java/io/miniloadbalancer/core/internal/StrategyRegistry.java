package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.Strategies;
import java.util.Map;

/** Maps strategy names to the pickers that implement them. */
public final class StrategyRegistry {

  /** Builds a picker over a routing table's endpoints and effective weights. */
  @FunctionalInterface
  private interface Factory {
    Picker create(EndpointRuntime[] endpoints, double[] weights, StrategyConfig config);
  }

  private static final Map<String, Factory> FACTORIES =
      Map.of(
          Strategies.ROUND_ROBIN,
          (e, w, c) -> new SmoothRoundRobinPicker(e, w, c.random().getAsLong()),
          Strategies.RANDOM,
          (e, w, c) -> new WeightedRandomPicker(e, w, c.random()),
          Strategies.LEAST_CONNECTIONS,
          (e, w, c) -> new LeastConnectionsPicker(e, w, c.random()),
          Strategies.LEAST_CONNECTIONS_P2C,
          (e, w, c) -> new LeastConnectionsP2cPicker(e, w, c.random()),
          Strategies.P2C_EWMA,
          (e, w, c) -> new PeakEwmaPicker(e, w, c.random()),
          Strategies.RING_HASH,
          RingHashPicker::new,
          Strategies.MAGLEV,
          MaglevPicker::new);

  private StrategyRegistry() {}

  /**
   * A picker for {@code strategy} over these endpoints; the empty picker for an empty table.
   *
   * @throws IllegalArgumentException for an unknown name (callers validate names earlier)
   */
  public static Picker create(
      String strategy, EndpointRuntime[] endpoints, double[] weights, StrategyConfig config) {
    Factory factory = FACTORIES.get(strategy);
    if (factory == null) {
      throw new IllegalArgumentException(Strategies.unknownMessage(strategy));
    }
    return endpoints.length == 0 ? Picker.EMPTY : factory.create(endpoints, weights, config);
  }
}
