package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.PoolEvent;
import io.miniloadbalancer.core.StrategySwitch;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.internal.EventLog;
import io.miniloadbalancer.core.spi.BalancerListener;
import io.miniloadbalancer.core.spi.Ticker;
import java.time.Clock;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a pool's transitions, events and strategy switches are written down: the bounded logs that
 * snapshots show, the application log, the step's {@link Effects}, and at the step's end the
 * listeners. Written on the control context; the logs are read from any thread.
 */
public final class Journal {

  private static final Logger LOG = LoggerFactory.getLogger(Journal.class);

  private final String pool;
  private final Ticker ticker;
  private final Clock clock;
  private final List<BalancerListener> listeners;
  private final EventLog<Transition> transitions;
  private final EventLog<PoolEvent> events;

  /** A journal keeping the last {@code logSize} transitions and, apart, the last events. */
  public Journal(
      String pool, Ticker ticker, Clock clock, int logSize, List<BalancerListener> listeners) {
    this.pool = pool;
    this.ticker = ticker;
    this.clock = clock;
    this.listeners = listeners;
    this.transitions = new EventLog<>(logSize);
    this.events = new EventLog<>(logSize);
  }

  /** Records a state change of endpoint {@code id} and returns it. */
  Transition transition(
      Effects fx,
      String id,
      @Nullable EndpointState from,
      EndpointState to,
      Transition.Cause cause,
      String reason,
      long now) {
    Transition t = new Transition(id, from, to, cause, reason, now, clock.instant());
    transitions.add(t);
    fx.add(new ControlEvent.Transitioned(t));
    LOG.info(
        "pool '{}': endpoint {} {} -> {} ({})",
        pool,
        id,
        from == null ? "added" : from,
        to,
        reason);
    return t;
  }

  /** Records a pool event, about one endpoint or (with a null id) about the pool. */
  void event(Effects fx, PoolEvent.Kind kind, @Nullable String endpointId, String reason) {
    PoolEvent e = new PoolEvent(kind, endpointId, reason, ticker.read(), clock.instant());
    events.add(e);
    fx.add(new ControlEvent.Raised(e));
    LOG.info(
        "pool '{}': {}{} ({})", pool, kind, endpointId == null ? "" : " " + endpointId, reason);
  }

  /** Records a strategy switch and returns it. */
  StrategySwitch strategySwitch(Effects fx, String from, String to, String reason, long now) {
    StrategySwitch s = new StrategySwitch(from, to, reason, now, clock.instant());
    LOG.info("pool '{}': strategy {} -> {} ({})", pool, from, to, reason);
    fx.add(new ControlEvent.Switched(s));
    return s;
  }

  /**
   * Tells every listener of every event the step fired, in order. A listener that throws is logged
   * and skipped: listeners cannot break the balancer.
   */
  void deliver(Effects fx) {
    for (ControlEvent event : fx.fired()) {
      for (BalancerListener listener : listeners) {
        try {
          event.deliverTo(listener);
        } catch (RuntimeException e) {
          LOG.warn("pool '{}': listener {} failed on {}", pool, listener, event, e);
        }
      }
    }
  }

  /** The retained transitions, oldest first. */
  List<Transition> transitions() {
    return transitions.toList();
  }

  /** The retained pool events, oldest first. */
  List<PoolEvent> events() {
    return events.toList();
  }
}
