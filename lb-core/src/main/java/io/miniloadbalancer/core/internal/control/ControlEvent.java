package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.PoolEvent;
import io.miniloadbalancer.core.StrategySwitch;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.spi.BalancerListener;

/**
 * A side effect of one control step that listeners hear of once the step has published: a closed
 * set, so each kind knows which listener callback it goes to and none can be forgotten.
 */
public sealed interface ControlEvent {

  /** Hands this event to the callback of {@code listener} that takes it. */
  void deliverTo(BalancerListener listener);

  /** An endpoint changed state. */
  record Transitioned(Transition transition) implements ControlEvent {
    @Override
    public void deliverTo(BalancerListener listener) {
      listener.onTransition(transition);
    }
  }

  /** Something happened to the pool or to one endpoint that is not a state change. */
  record Raised(PoolEvent event) implements ControlEvent {
    @Override
    public void deliverTo(BalancerListener listener) {
      listener.onPoolEvent(event);
    }
  }

  /** The strategy changed. */
  record Switched(StrategySwitch strategySwitch) implements ControlEvent {
    @Override
    public void deliverTo(BalancerListener listener) {
      listener.onStrategySwitch(strategySwitch);
    }
  }
}
