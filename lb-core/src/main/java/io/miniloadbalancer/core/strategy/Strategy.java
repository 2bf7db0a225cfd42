package io.miniloadbalancer.core.strategy;

/**
 * A load-balancing strategy, registered under its {@link #name()}: the built-in seven ({@link
 * io.miniloadbalancer.core.Strategies}), those found through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.miniloadbalancer.core.strategy.Strategy}, or {@code provides} in a
 * module), and those added to one balancer with {@link
 * io.miniloadbalancer.core.LoadBalancerBuilder#addStrategy}. Every one is selected by name, at
 * build time or by a runtime {@link io.miniloadbalancer.core.LoadBalancer#switchStrategy switch}.
 *
 * <pre>{@code
 * public final class FirstHealthy implements Strategy {
 *   public String name() { return "first-healthy"; }
 *   public Picker newPicker(EndpointTable table) {
 *     return (context, nowNanos, attempt) -> table.size() == 0 ? Picker.NONE : 0;
 *   }
 * }
 * }</pre>
 *
 * <p>A strategy is a factory: the balancer calls {@link #newPicker} on its control thread each time
 * the routable set or a weight changes (never on the request path), and every request then calls
 * the picker. The table a picker sees holds only endpoints that may take traffic now: healthy (or
 * every not-drained one in panic mode), not under a Retry-After pause, in the preferred zone.
 * Implementations must be thread-safe; a service-loaded one needs a public no-argument constructor.
 */
public interface Strategy {

  /**
   * The name the strategy is selected by: lower case, unique among the strategies a balancer knows.
   *
   * @return the name, for example {@code "round-robin"}
   */
  String name();

  /**
   * Builds the choice function over one table. Runs on the control thread, so it may take time (a
   * hash ring, an alias table); it must not block on I/O or keep the table beyond the picker's own
   * use.
   *
   * @param table the routable endpoints, their weights and live in-flight counts; never empty
   * @return the picker every request of this table calls
   */
  Picker newPicker(EndpointTable table);
}
