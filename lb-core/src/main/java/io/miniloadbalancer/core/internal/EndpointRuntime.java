package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.Transition;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.jspecify.annotations.Nullable;

/**
 * The live side of one endpoint: its state and the counters the data path updates.
 *
 * <h2>Design</h2>
 *
 * <p>Two kinds of writer touch this object. The control context (one logical thread) writes {@link
 * #state}, {@link #endpoint}, {@link #routable} and {@link #awaitingIdle}; the data path writes only
 * the counters, with one atomic read-modify-write each, and never blocks.
 *
 * <p><b>No pick on a removed endpoint.</b> A picker may still hold a routing table that includes an
 * endpoint the control context has just taken out. The data path therefore increments {@link
 * #inFlight} first and reads {@link #routable} after; the control context publishes the new table,
 * clears {@code routable}, then reads {@code inFlight}. Both sides use volatile accesses, so at
 * least one of them sees the other: either the data path sees {@code routable == false} and backs
 * out (and re-picks from the new table), or the control context sees the lease in {@code inFlight}
 * and waits for it. No lease starts unseen on an endpoint that has stopped taking requests.
 *
 * <p><b>EWMA.</b> Peak EWMA (Finagle, Linkerd): a sample above the current value replaces it at
 * once; below it, it decays in with weight {@code exp(-dt / tau)}. Readers decay the value to the
 * present without writing, so an endpoint that stopped getting traffic looks better over time and
 * is tried again. The value and its time stamp are two volatile fields; concurrent updates may lose
 * one sample (last writer wins), which is harmless for a moving average and keeps the path lock-free.
 */
public final class EndpointRuntime {

  /** Receives the moment an endpoint that the control context waits on has no lease left. */
  @FunctionalInterface
  public interface IdleListener {
    /** Called on the data path thread that released the last lease; must only hand off. */
    void onIdle(EndpointRuntime endpoint);
  }

  private static final VarHandle IN_FLIGHT;
  private static final VarHandle SUCCESSES;
  private static final VarHandle FAILURES;
  private static final VarHandle CANCELLATIONS;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      IN_FLIGHT = l.findVarHandle(EndpointRuntime.class, "inFlight", int.class);
      SUCCESSES = l.findVarHandle(EndpointRuntime.class, "successes", long.class);
      FAILURES = l.findVarHandle(EndpointRuntime.class, "failures", long.class);
      CANCELLATIONS = l.findVarHandle(EndpointRuntime.class, "cancellations", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String id;
  private final double ewmaTauNanos;
  private final IdleListener idleListener;

  private volatile Endpoint endpoint;
  private volatile EndpointState state;
  private volatile boolean routable;
  private volatile boolean awaitingIdle;
  private volatile @Nullable Transition lastTransition;

  private volatile int inFlight;
  private volatile long successes;
  private volatile long failures;
  private volatile long cancellations;
  private volatile double ewmaNanos;
  private volatile long ewmaStampNanos;

  /**
   * A runtime in {@code initialState}, not yet routable.
   *
   * @param ewmaTauNanos the EWMA's time constant
   * @param defaultRttNanos the EWMA's value before the first sample
   */
  public EndpointRuntime(
      Endpoint endpoint,
      EndpointState initialState,
      double ewmaTauNanos,
      long defaultRttNanos,
      long nowNanos,
      IdleListener idleListener) {
    this.id = endpoint.id();
    this.endpoint = endpoint;
    this.state = initialState;
    this.ewmaTauNanos = ewmaTauNanos;
    this.ewmaNanos = defaultRttNanos;
    this.ewmaStampNanos = nowNanos;
    this.idleListener = idleListener;
  }

  // ---- data path -------------------------------------------------------------------------------

  /** Counts a new lease. Returns false (and counts nothing) when the endpoint stopped routing. */
  public boolean tryStartLease() {
    IN_FLIGHT.getAndAdd(this, 1);
    if (routable) {
      return true;
    }
    endLease();
    return false;
  }

  /** Ends a lease with its outcome; {@code latencyNanos < 0} means unknown. */
  public void completeLease(Outcome outcome, long latencyNanos, long nowNanos) {
    switch (outcome) {
      case SUCCESS -> {
        SUCCESSES.getAndAdd(this, 1L);
        if (latencyNanos >= 0) {
          observeLatency(latencyNanos, nowNanos);
        }
      }
      case FAILURE -> {
        FAILURES.getAndAdd(this, 1L);
        if (latencyNanos >= 0) {
          observeLatency(latencyNanos, nowNanos);
        }
      }
      case CANCELLED -> CANCELLATIONS.getAndAdd(this, 1L);
      default -> throw new AssertionError(outcome);
    }
    endLease();
  }

  private void endLease() {
    int left = (int) IN_FLIGHT.getAndAdd(this, -1) - 1;
    if (left == 0 && awaitingIdle) {
      idleListener.onIdle(this);
    }
  }

  private void observeLatency(long latencyNanos, long nowNanos) {
    double current = ewmaNanos;
    if (latencyNanos > current) {
      ewmaNanos = latencyNanos;
    } else {
      long dt = Math.max(nowNanos - ewmaStampNanos, 0L);
      double w = Math.exp(-dt / ewmaTauNanos);
      ewmaNanos = current * w + latencyNanos * (1.0 - w);
    }
    ewmaStampNanos = nowNanos;
  }

  /** Open leases. */
  public int inFlight() {
    return inFlight;
  }

  /** Peak-EWMA latency decayed to {@code nowNanos}, in nanoseconds. */
  public double ewmaNanosAt(long nowNanos) {
    long dt = nowNanos - ewmaStampNanos;
    double value = ewmaNanos;
    return dt <= 0 ? value : value * Math.exp(-dt / ewmaTauNanos);
  }

  // ---- control context -------------------------------------------------------------------------

  /** The stable id (the same as {@code endpoint().id()}). */
  public String id() {
    return id;
  }

  /** The current definition. */
  public Endpoint endpoint() {
    return endpoint;
  }

  /** Control context only. */
  public void endpoint(Endpoint updated) {
    this.endpoint = updated;
  }

  /** The current state. */
  public EndpointState state() {
    return state;
  }

  /** Control context only: changes state and remembers the transition. */
  public void transition(Transition transition) {
    this.state = transition.to();
    this.lastTransition = transition;
  }

  /** The most recent transition. */
  public @Nullable Transition lastTransition() {
    return lastTransition;
  }

  /** Whether the published routing table may pick this endpoint. */
  public boolean routable() {
    return routable;
  }

  /** Control context only; see the class comment for the ordering this relies on. */
  public void routable(boolean value) {
    this.routable = value;
  }

  /** Control context only: whether to report the moment {@link #inFlight()} reaches zero. */
  public void awaitIdle(boolean value) {
    this.awaitingIdle = value;
  }

  /** Whether the control context waits for this endpoint to become idle. */
  public boolean awaitingIdle() {
    return awaitingIdle;
  }

  /** Successful completions so far. */
  public long successes() {
    return successes;
  }

  /** Failed completions so far. */
  public long failures() {
    return failures;
  }

  /** Cancelled completions so far. */
  public long cancellations() {
    return cancellations;
  }

  @Override
  public String toString() {
    return id + "[" + state + ", inFlight=" + inFlight + "]";
  }
}
