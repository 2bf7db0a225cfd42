package io.miniloadbalancer.edge.logging;

import io.miniloadbalancer.core.PoolEvent;
import io.miniloadbalancer.core.StrategySwitch;
import io.miniloadbalancer.core.Transition;
import io.miniloadbalancer.core.spi.BalancerListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool's endpoint transitions, events and strategy switches as readable lines on the public
 * logger {@value #LOGGER}: {@code pool 'demo': endpoint a added -> HEALTHY (source)}. lb-core's own
 * journal lines (an internal logger, a {@code null} for a new endpoint's former state) are turned
 * down to WARN in {@code logback.xml}; this listener says the same in words.
 */
public final class TransitionLog implements BalancerListener {

  /** The logger name: set its level to see or hide the balancer's state changes. */
  public static final String LOGGER = "io.miniloadbalancer.transitions";

  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

  private final String pool;

  /**
   * A listener for pool {@code pool}.
   *
   * @param pool the pool's name, on every line
   */
  public TransitionLog(String pool) {
    this.pool = pool;
  }

  @Override
  public void onTransition(Transition t) {
    LOG.info(
        "pool '{}': endpoint {} {} -> {} ({})",
        pool,
        t.endpointId(),
        t.from() == null ? "added" : t.from(),
        t.to(),
        t.reason());
  }

  @Override
  public void onStrategySwitch(StrategySwitch s) {
    LOG.info("pool '{}': strategy {} -> {} ({})", pool, s.from(), s.to(), s.reason());
  }

  @Override
  public void onPoolEvent(PoolEvent e) {
    LOG.info(
        "pool '{}': {}{} ({})",
        pool,
        e.kind(),
        e.endpointId() == null ? "" : " endpoint " + e.endpointId(),
        e.reason());
  }
}
