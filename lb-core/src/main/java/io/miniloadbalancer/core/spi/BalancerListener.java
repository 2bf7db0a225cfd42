package io.miniloadbalancer.core.spi;

import io.miniloadbalancer.core.PoolEvent;
import io.miniloadbalancer.core.StrategySwitch;
import io.miniloadbalancer.core.Transition;

/**
 * Observes a balancer: endpoint state transitions and strategy switches.
 *
 * <p>Callbacks run on the balancer's control context, in order, after the new state has been
 * published (so a listener that calls {@code snapshot()} sees it). Keep them short and
 * non-blocking, and never wait on a balancer future from inside one. A listener that throws is
 * logged and skipped; it cannot break the balancer or the other listeners.
 */
public interface BalancerListener {

  /**
   * An endpoint changed state (including being added or removed).
   *
   * @param transition the state change, with its reason
   */
  default void onTransition(Transition transition) {}

  /**
   * The balancer switched strategy.
   *
   * @param strategySwitch the switch, with its reason
   */
  default void onStrategySwitch(StrategySwitch strategySwitch) {}

  /**
   * A pool-level event: panic, zone spill-over, a skipped or dry-run ejection, and so on.
   *
   * @param event the event
   */
  default void onPoolEvent(PoolEvent event) {}
}
