package io.miniloadbalancer.edge.http;

import java.util.function.LongSupplier;

/**
 * At most {@code perSecond} log lines in each clock second, so a hostile peer cannot flood the log
 * through the proxy's warnings; the next line admitted says how many were dropped. Used only on
 * error paths (a monitor is fine there), shared by the data path's and the admin plane's warnings.
 */
public final class LogRateLimit {

  private final int perSecond;
  private final LongSupplier millis;
  private long second = Long.MIN_VALUE;
  private int used;
  private long dropped;

  /**
   * A limit of {@code perSecond} lines.
   *
   * @param perSecond lines admitted in each clock second
   * @param millis the clock, in milliseconds
   */
  public LogRateLimit(int perSecond, LongSupplier millis) {
    this.perSecond = perSecond;
    this.millis = millis;
  }

  /**
   * Asks to log one line now.
   *
   * @return -1 when this line must be dropped; else how many were dropped since the last admitted
   *     one
   */
  public synchronized long admit() {
    long now = millis.getAsLong() / 1000;
    if (now != second) {
      second = now;
      used = 0;
    }
    if (used >= perSecond) {
      dropped++;
      return -1;
    }
    used++;
    long out = dropped;
    dropped = 0;
    return out;
  }
}
