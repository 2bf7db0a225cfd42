package io.miniloadbalancer.core.internal.strategy;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.strategy.Picker;
import io.miniloadbalancer.core.strategy.Strategy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The strategies one balancer knows, by name: the built-in seven, then those found through {@link
 * ServiceLoader} (once per class loader that first asks), then those added on its builder. Every
 * one enters through {@link #with}; immutable, so the control thread and callers read it freely.
 */
public final class StrategyRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(StrategyRegistry.class);

  private static volatile @Nullable StrategyRegistry standard;

  private final Map<String, Strategy> byName;

  private StrategyRegistry(Map<String, Strategy> byName) {
    this.byName = byName;
  }

  /**
   * The built-in strategies plus the service-loaded ones; found on first use, then cached.
   *
   * @throws IllegalStateException when a provider fails to load or reuses a name
   */
  public static StrategyRegistry standard() {
    StrategyRegistry s = standard;
    if (s == null) {
      s = new StrategyRegistry(Map.of());
      for (Strategy builtIn : BuiltInStrategy.ALL) {
        s = s.with(builtIn);
      }
      try {
        for (Strategy found : ServiceLoader.load(Strategy.class)) {
          s = s.with(found);
        }
      } catch (ServiceConfigurationError e) {
        throw new IllegalStateException("a strategy provider failed to load: " + e, e);
      }
      standard = s;
    }
    return s;
  }

  /**
   * A copy that also knows {@code strategy}.
   *
   * @throws IllegalStateException when a strategy of that name is already known
   */
  public StrategyRegistry with(Strategy strategy) {
    requireNonNull(strategy, "strategy");
    String name = requireNonNull(strategy.name(), "strategy name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("strategy name must not be blank: " + strategy);
    }
    Strategy known = byName.get(name);
    if (known != null) {
      throw new IllegalStateException(
          "strategy '" + name + "' is already registered (" + describe(known) + ")");
    }
    Map<String, Strategy> next = new LinkedHashMap<>(byName);
    next.put(name, strategy);
    return new StrategyRegistry(next);
  }

  private static String describe(Strategy s) {
    return s instanceof BuiltInStrategy ? "built in" : s.getClass().getName();
  }

  /** Every known name, built-ins first, in registration order. */
  public List<String> names() {
    return List.copyOf(byName.keySet());
  }

  /** Whether {@code name} is known. */
  public boolean contains(String name) {
    return byName.containsKey(name);
  }

  /**
   * Checks a name.
   *
   * @throws IllegalArgumentException naming the valid strategies, when it is unknown
   */
  public String requireKnown(String name) {
    if (!contains(name)) {
      throw new IllegalArgumentException(unknownMessage(name));
    }
    return name;
  }

  /** The message for an unknown name, listing the known ones. */
  public String unknownMessage(String name) {
    return "unknown strategy '"
        + name
        + "'; valid strategies: "
        + String.join(", ", byName.keySet());
  }

  /**
   * A picker for {@code strategy} over these endpoints; the empty picker for an empty table.
   *
   * <p>Weight-proportional strategies use the effective weights (configured weight x slow-start
   * factor). Hash strategies shape their table by the configured weights, so no other endpoint's
   * keys move while one ramps, and admit the ramping endpoint's keys in proportion to its factor.
   *
   * @param configured the configured weights, index-aligned with {@code endpoints}
   * @param effective the effective weights, index-aligned with {@code endpoints}
   * @throws IllegalArgumentException for an unknown name (callers validate names earlier)
   */
  public static Picker create(
      String strategy,
      EndpointRuntime[] endpoints,
      double[] configured,
      double[] effective,
      StrategyConfig config) {
    Strategy s = config.registry().byName.get(strategy);
    if (s == null) {
      throw new IllegalArgumentException(config.registry().unknownMessage(strategy));
    }
    if (endpoints.length == 0) {
      return Picker.EMPTY;
    }
    TableView table = new TableView(endpoints, configured, effective, config);
    try {
      return requireNonNull(s.newPicker(table), "picker");
    } catch (RuntimeException e) {
      if (s instanceof BuiltInStrategy) {
        throw e;
      }
      // A user's strategy must not take the pool down with it: the table still gets
      // published, picked round-robin, until the next publish asks the strategy again.
      LOG.warn("strategy '{}' failed to build a picker; round-robin used", strategy, e);
      return BuiltInStrategy.ALL.get(0).newPicker(table);
    }
  }
}
