package io.miniloadbalancer.core.spi;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.Outcome;

/**
 * Hears every lease's end, on the thread that ended it: the hook request metrics are built on
 * (lb-metrics records its counters and latency timer here).
 *
 * <p>It runs on the data path, once per request: it must be fast, non-blocking and allocation-free.
 * An observer that throws is skipped for that lease (and logged once); it cannot break the lease.
 */
@FunctionalInterface
public interface LeaseObserver {

  /**
   * A lease ended.
   *
   * @param endpoint the endpoint it held
   * @param outcome how it ended
   * @param latencyNanos how long it took, or a negative value when unknown (cancelled leases)
   */
  void onLeaseEnd(Endpoint endpoint, Outcome outcome, long latencyNanos);
}
