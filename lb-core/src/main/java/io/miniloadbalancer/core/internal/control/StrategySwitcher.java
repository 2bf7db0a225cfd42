package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.StrategySwitch;
import io.miniloadbalancer.core.StrategySwitchRejectedException;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Runtime strategy switches with a dwell-time guard: a switch sooner than {@code minSwitchInterval}
 * after the last one is refused with the time left, so a flapping operator or automation cannot
 * churn the tables. A switch rebuilds the table with the new strategy at once.
 */
public final class StrategySwitcher {

  private final Pool pool;
  private final Journal journal;
  private final TablePublisher publisher;
  private final long minIntervalNanos;
  private boolean hasSwitched;
  private long lastSwitchNanos;
  private volatile @Nullable StrategySwitch lastSwitch;

  /** Switches at most once per {@code minIntervalNanos}. */
  public StrategySwitcher(
      Pool pool, Journal journal, TablePublisher publisher, long minIntervalNanos) {
    this.pool = pool;
    this.journal = journal;
    this.publisher = publisher;
    this.minIntervalNanos = minIntervalNanos;
  }

  /** The last switch, if any; any thread. */
  @Nullable StrategySwitch lastSwitch() {
    return lastSwitch;
  }

  /**
   * Switches to {@code to} and publishes; a switch to the current strategy changes nothing. Returns
   * why the switch was refused, or null when it was not.
   */
  public @Nullable StrategySwitchRejectedException switchTo(Effects fx, String to, String reason) {
    if (pool.closed()) {
      return new StrategySwitchRejectedException("balancer '" + pool.name() + "' is closed");
    }
    String from = publisher.strategy();
    if (to.equals(from)) {
      return null;
    }
    long now = pool.now();
    long sinceLast = now - lastSwitchNanos;
    if (hasSwitched && sinceLast < minIntervalNanos) {
      return new StrategySwitchRejectedException(
          String.format(
              "switch of pool '%s' to '%s' refused: the last switch was %d ms ago"
                  + " and minSwitchInterval is %d ms; retry in %d ms",
              pool.name(),
              to,
              TimeUnit.NANOSECONDS.toMillis(sinceLast),
              TimeUnit.NANOSECONDS.toMillis(minIntervalNanos),
              TimeUnit.NANOSECONDS.toMillis(minIntervalNanos - sinceLast)));
    }
    publisher.strategy(to);
    hasSwitched = true;
    lastSwitchNanos = now;
    publisher.publish(fx);
    lastSwitch = journal.strategySwitch(fx, from, to, reason, now);
    return null;
  }
}
