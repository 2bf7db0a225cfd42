package io.miniloadbalancer.core;

import io.miniloadbalancer.core.internal.strategy.StrategyRegistry;
import java.util.List;

/**
 * The names of the built-in strategies, as accepted by {@link LoadBalancerBuilder#strategy} and
 * {@link LoadBalancer#switchStrategy}. Every built-in strategy honours endpoint weights; add your
 * own through {@link io.miniloadbalancer.core.strategy.Strategy}.
 *
 * <table>
 *   <caption>Strategies</caption>
 *   <tr><th>name</th><th>picks</th><th>cost per pick</th></tr>
 *   <tr><td>{@value #ROUND_ROBIN}</td><td>smooth weighted round-robin</td><td>O(1)</td></tr>
 *   <tr><td>{@value #RANDOM}</td><td>weighted random (alias method)</td><td>O(1)</td></tr>
 *   <tr><td>{@value #LEAST_CONNECTIONS}</td><td>lowest in-flight/weight, full scan</td>
 *       <td>O(n)</td></tr>
 *   <tr><td>{@value #LEAST_CONNECTIONS_P2C}</td><td>lower in-flight/weight of two weighted
 *       draws</td><td>O(1)</td></tr>
 *   <tr><td>{@value #P2C_EWMA}</td><td>lower peak-EWMA latency x (in-flight + 1) / weight of two
 *       weighted draws</td><td>O(1)</td></tr>
 *   <tr><td>{@value #RING_HASH}</td><td>consistent hash ring on the request key, optionally
 *       bounded-load</td><td>O(1) (bucketed ring)</td></tr>
 *   <tr><td>{@value #MAGLEV}</td><td>Maglev table on the request key, optionally
 *       bounded-load</td><td>O(1)</td></tr>
 * </table>
 *
 * <p>A hash strategy given a request without a key picks with a fresh random hash, which is
 * weighted random: requests without a key still flow, they are just not sticky.
 */
public final class Strategies {

  /** Smooth weighted round-robin. */
  public static final String ROUND_ROBIN = "round-robin";

  /** Weighted random. */
  public static final String RANDOM = "random";

  /** Weighted least connections by full scan. */
  public static final String LEAST_CONNECTIONS = "least-connections";

  /** Weighted least connections with power of two choices. */
  public static final String LEAST_CONNECTIONS_P2C = "least-connections-p2c";

  /** Power of two choices on peak-EWMA latency. */
  public static final String P2C_EWMA = "p2c-ewma";

  /** Consistent hashing on a ring. */
  public static final String RING_HASH = "ring-hash";

  /** Maglev consistent hashing. */
  public static final String MAGLEV = "maglev";

  private Strategies() {}

  /**
   * The names every balancer knows: the built-in seven in the order above, then the strategies
   * found through {@link java.util.ServiceLoader} (looked up once, on first use). A balancer also
   * knows those added to its builder ({@link LoadBalancerBuilder#addStrategy}).
   *
   * @return every name every balancer knows, in a stable order
   * @throws IllegalStateException when a strategy provider fails to load or reuses a name
   */
  public static List<String> names() {
    return StrategyRegistry.standard().names();
  }

  /**
   * Whether {@code name} is one of {@link #names()}.
   *
   * @param name a strategy name
   * @return whether {@code name} is a strategy every balancer knows
   */
  public static boolean isKnown(String name) {
    return StrategyRegistry.standard().contains(name);
  }

  /**
   * Checks a name against {@link #names()}.
   *
   * @param name a strategy name
   * @return {@code name}
   * @throws IllegalArgumentException naming the valid strategies, when it is unknown
   */
  public static String requireKnown(String name) {
    return StrategyRegistry.standard().requireKnown(name);
  }

  /**
   * The message for an unknown name, listing {@link #names()}.
   *
   * @param name a strategy name
   * @return the message for an unknown name
   */
  public static String unknownMessage(String name) {
    return StrategyRegistry.standard().unknownMessage(name);
  }
}
