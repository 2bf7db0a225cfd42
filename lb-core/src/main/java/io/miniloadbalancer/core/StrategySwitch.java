package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * A runtime change of strategy.
 *
 * @param from the strategy before
 * @param to the strategy after
 * @param reason who or what asked, as given to {@link LoadBalancer#switchStrategy(String, String)}
 * @param tickerNanos when, on the balancer's ticker
 * @param at when, on the balancer's wall clock
 */
public record StrategySwitch(String from, String to, String reason, long tickerNanos, Instant at) {

  /**
   * Checks that required fields are present.
   *
   * @param from the strategy before
   * @param to the strategy after
   * @param reason who or what asked, as given to {@link LoadBalancer#switchStrategy(String,
   *     String)}
   * @param tickerNanos when, on the balancer's ticker
   * @param at when, on the balancer's wall clock
   */
  public StrategySwitch {
    requireNonNull(from, "from");
    requireNonNull(to, "to");
    requireNonNull(reason, "reason");
    requireNonNull(at, "at");
  }
}
