package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.internal.PoolController;
import io.miniloadbalancer.core.internal.RetryBudget;
import io.miniloadbalancer.core.internal.RoutingTable;
import io.miniloadbalancer.core.internal.strategy.Hashing;
import io.miniloadbalancer.core.spi.LeaseObserver;
import io.miniloadbalancer.core.spi.Ticker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * The request side of one balancer: acquiring a lease from the published routing table, and the
 * state every lease and retry shares (the ticker, the total in-flight count, the retry budget, the
 * lease observers). {@link LoadBalancer}, {@link Lease} and the retry code reach it here, never
 * through each other.
 *
 * <p>Lock-free and, apart from the lease itself, allocation-free: one volatile read of the table,
 * array math, and a few atomic updates of long-lived counters. Only adding or removing an observer
 * takes a lock (copy on write).
 */
final class DataPath {

  /** Picks tried before the fallback scan (a pick may be excluded or lose a race). */
  private static final int MAX_PICK_ATTEMPTS = 4;

  private final PoolController controller;
  private final Ticker ticker;
  private final LongSupplier random;
  private final LongAdder totalInFlight;
  private final RetryBudget retryBudget;
  private final long maxPenaltyNanos;
  private volatile LeaseObserver[] observers = new LeaseObserver[0];
  private volatile boolean observerFailureLogged;

  DataPath(
      PoolController controller,
      Ticker ticker,
      LongSupplier random,
      LongAdder totalInFlight,
      RetryBudget retryBudget,
      long maxPenaltyNanos) {
    this.controller = controller;
    this.ticker = ticker;
    this.random = random;
    this.totalInFlight = totalInFlight;
    this.retryBudget = retryBudget;
    this.maxPenaltyNanos = maxPenaltyNanos;
  }

  /** See {@link LoadBalancer#acquire}. */
  Lease acquire(RequestContext context) {
    long now = ticker.read();
    RoutingTable t = controller.table();
    boolean excludes = context.exclusionCount() > 0;
    for (int attempt = 0; attempt < MAX_PICK_ATTEMPTS; attempt++) {
      int index = t.picker().pick(context, now, attempt);
      if (index < 0) {
        throw t.noEndpoint();
      }
      EndpointRuntime endpoint = t.routable()[index];
      if (excludes && context.excludes(endpoint.id())) {
        continue;
      }
      int started = endpoint.tryStartLease();
      if (started != EndpointRuntime.REFUSED) {
        return lease(t, endpoint, now, started, excludes);
      }
      // The control context changed this endpoint after we read the table: read the new one.
      t = controller.table();
    }
    EndpointRuntime[] routable = t.routable();
    int n = routable.length;
    int start = n == 0 ? 0 : Hashing.reduce(random.getAsLong(), n);
    for (int k = 0; k < n; k++) {
      EndpointRuntime endpoint = routable[(start + k) % n];
      if (excludes && context.excludes(endpoint.id())) {
        continue;
      }
      int started = endpoint.tryStartLease();
      if (started != EndpointRuntime.REFUSED) {
        return lease(t, endpoint, now, started, excludes);
      }
    }
    throw t.noEndpoint();
  }

  /** See {@link LoadBalancer#acquirePinned}. */
  @Nullable Lease acquirePinned(String endpointId) {
    long now = ticker.read();
    RoutingTable t = controller.table();
    for (EndpointRuntime endpoint : t.members()) {
      if (endpoint.id().equals(endpointId)) {
        int started = endpoint.tryStartSessionLease(now);
        return started == EndpointRuntime.REFUSED ? null : lease(t, endpoint, now, started, false);
      }
    }
    return null;
  }

  /**
   * A lease whose context excludes endpoints is a retry (every retry excludes what it tried): it
   * counts in the retry budget's in-flight retries until it ends.
   */
  private Lease lease(
      RoutingTable t, EndpointRuntime endpoint, long now, int started, boolean retry) {
    boolean counted = t.picker().readsTotalInFlight();
    if (counted) {
      totalInFlight.increment();
    }
    if (retry) {
      retryBudget.retryLeaseStarted();
    }
    return new Lease(this, endpoint, now, counted, started == EndpointRuntime.STARTED_TRIAL, retry);
  }

  /** Open leases over all members: a scan, for retry decisions only (never per pick). */
  long activeRequests() {
    long n = 0;
    for (EndpointRuntime r : controller.table().members()) {
      n += r.inFlight();
    }
    return n;
  }

  /** The balancer's ticker now. */
  long nanoTime() {
    return ticker.read();
  }

  /** The longest Retry-After penalty honoured. */
  long maxPenaltyNanos() {
    return maxPenaltyNanos;
  }

  /** The balancer's retry budget, shared by every retry executor and tracker of it. */
  RetryBudget retryBudget() {
    return retryBudget;
  }

  /** A lease ended (exactly once): balance the total and tell the observers. */
  void leaseEnded(
      Endpoint endpoint, Outcome outcome, long latencyNanos, boolean counted, boolean retry) {
    if (counted) {
      totalInFlight.decrement();
    }
    if (retry) {
      retryBudget.retryLeaseEnded();
    }
    for (LeaseObserver observer : observers) {
      try {
        observer.onLeaseEnd(endpoint, outcome, latencyNanos);
      } catch (RuntimeException e) {
        if (!observerFailureLogged) {
          observerFailureLogged = true;
          LoggerFactory.getLogger(LoadBalancer.class)
              .warn(
                  "pool '{}': lease observer {} failed (logged once)",
                  controller.name(),
                  observer,
                  e);
        }
      }
    }
  }

  synchronized void addObserver(LeaseObserver observer) {
    requireNonNull(observer, "observer");
    LeaseObserver[] next = Arrays.copyOf(observers, observers.length + 1);
    next[next.length - 1] = observer;
    observers = next;
  }

  synchronized void removeObserver(LeaseObserver observer) {
    List<LeaseObserver> next = new ArrayList<>(Arrays.asList(observers));
    next.remove(observer);
    observers = next.toArray(new LeaseObserver[0]);
  }

  /** The pool's name, for messages. */
  String name() {
    return controller.name();
  }

  /** How many members are in {@code state}: a scan of the published table, for gauges. */
  int endpointCount(EndpointState state) {
    int n = 0;
    for (EndpointRuntime r : controller.table().members()) {
      n += r.state() == state ? 1 : 0;
    }
    return n;
  }

  /** The member's open leases, or -1 when it is not in the pool. */
  int inFlight(String id) {
    for (EndpointRuntime r : controller.table().members()) {
      if (r.id().equals(id)) {
        return r.inFlight();
      }
    }
    return -1;
  }

  @Override
  public String toString() {
    RoutingTable t = controller.table();
    return name()
        + ", "
        + t.strategy()
        + ", "
        + t.routable().length
        + "/"
        + t.members().length
        + " routable";
  }
}
