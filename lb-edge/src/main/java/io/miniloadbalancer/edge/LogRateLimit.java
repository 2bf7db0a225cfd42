package io.miniloadbalancer.edge;

import java.util.function.LongSupplier;

/**
 * At most {@code perSecond} log lines in each clock second, so a hostile peer cannot flood the log
 * through the proxy's warnings; the next line admitted says how many were dropped. Used only on
 * error paths (a monitor is fine there), shared by the data path's and the admin plane's warnings.
 */
final class LogRateLimit {

    private final int perSecond;
    private final LongSupplier millis;
    private long second = Long.MIN_VALUE;
    private int used;
    private long dropped;

    LogRateLimit(int perSecond, LongSupplier millis) {
        this.perSecond = perSecond;
        this.millis = millis;
    }

    /**
     * -1 when this line must be dropped; else how many were dropped since the last admitted one.
     */
    synchronized long admit() {
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
