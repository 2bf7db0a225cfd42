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
 * #state}, {@link #endpoint}, {@link #routable} and {@link #awaitingIdle}; the data path writes
 * only the counters, with atomic read-modify-writes, and never blocks.
 *
 * <p><b>One word for load.</b> {@code load} packs the in-flight count (low {@value #IN_FLIGHT_BITS}
 * bits) and the success count (the high bits), so a successful completion is a single atomic add of
 * {@code 2^20 - 1}: it counts the success and ends the lease at once. A lease is refused rather
 * than allowed to carry into the success bits, so one endpoint holds at most {@value
 * #MAX_IN_FLIGHT} leases; the success count wraps after 2^44 (years at a million requests per
 * second per endpoint), which metrics treat as a counter reset.
 *
 * <p><b>No pick on a removed endpoint.</b> A picker may still hold a routing table that includes an
 * endpoint the control context has just taken out. The data path therefore increments the in-flight
 * count first and reads {@link #routable} after; the control context publishes the new table,
 * clears {@code routable}, then reads the in-flight count. Both sides use volatile accesses, so at
 * least one of them sees the other: either the data path sees {@code routable == false} and backs
 * out (and re-picks from the new table), or the control context sees the lease and waits for it. No
 * lease starts unseen on an endpoint that has stopped taking requests.
 *
 * <p><b>Pinned sessions on a draining endpoint.</b> {@link #tryStartSessionLease} may also start a
 * lease while {@link #admitsSessions} is set (the endpoint is draining and its drain has not
 * settled). The same ordering holds: the data path counts first, then reads the flag; the control
 * context clears the flag, then reads the in-flight count, and only settles the drain on zero. A
 * session lease therefore either is refused or is seen by the drain it would outlive.
 *
 * <p><b>EWMA.</b> Peak EWMA (Finagle, Linkerd): a sample above the current value replaces it at
 * once; below it, it decays in with weight {@code exp(-dt / tau)}. Readers decay the value to the
 * present without writing, so an endpoint that stopped getting traffic looks better over time and
 * is tried again. The value and its time stamp are two fields written with release stores;
 * concurrent updates may lose one sample (last writer wins), which is harmless for a moving average
 * and keeps the path lock-free.
 *
 * <p><b>Cancellations carry time.</b> A lease cancelled after {@code t} says the endpoint took at
 * least {@code t}: when {@code t} is above the current estimate it enters as a peak sample, never
 * as a lower one (a cancelled request says nothing about how fast the endpoint would have been).
 * Without this an endpoint that never answers before its clients give up keeps a cost of zero. A
 * cancellation after the slow-request threshold also counts as a failure for outlier detection.
 */
public final class EndpointRuntime {

  /**
   * What the data path reports to the control context. Called on request threads: implementations
   * only hand off (queue a control task), never block.
   */
  public interface Signals {

    /** The last lease ended on an endpoint the control context waits on. */
    void onIdle(EndpointRuntime endpoint);

    /** The consecutive-failure count reached a multiple of the outlier threshold. */
    void onConsecutiveFailures(EndpointRuntime endpoint, int consecutive);

    /** A trial request on a half-open endpoint ended. */
    void onTrialResult(EndpointRuntime endpoint, boolean success);

    /** The endpoint asked to be left alone until {@code untilNanos} (429, or 503 + Retry-After). */
    void onOverloaded(EndpointRuntime endpoint, long untilNanos);
  }

  static final int IN_FLIGHT_BITS = 20;
  // Half the field: refusals that briefly over-count (add, see the limit, subtract) have 2^19 of
  // headroom before they could carry into the success bits.
  static final int MAX_IN_FLIGHT = 1 << (IN_FLIGHT_BITS - 1);
  private static final long IN_FLIGHT_MASK = (1L << IN_FLIGHT_BITS) - 1;
  private static final long SUCCESS_AND_END = (1L << IN_FLIGHT_BITS) - 1;

  private static final VarHandle LOAD;
  private static final VarHandle FAILURES;
  private static final VarHandle CANCELLATIONS;
  private static final VarHandle EWMA;
  private static final VarHandle EWMA_STAMP;
  private static final VarHandle CONSECUTIVE_FAILURES;
  private static final VarHandle TRIAL_PERMITS;
  private static final VarHandle OVERLOADED;
  private static final VarHandle LAST_SESSION;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      LOAD = l.findVarHandle(EndpointRuntime.class, "load", long.class);
      FAILURES = l.findVarHandle(EndpointRuntime.class, "failures", long.class);
      CANCELLATIONS = l.findVarHandle(EndpointRuntime.class, "cancellations", long.class);
      EWMA = l.findVarHandle(EndpointRuntime.class, "ewmaNanos", double.class);
      EWMA_STAMP = l.findVarHandle(EndpointRuntime.class, "ewmaStampNanos", long.class);
      CONSECUTIVE_FAILURES =
          l.findVarHandle(EndpointRuntime.class, "consecutiveFailures", int.class);
      TRIAL_PERMITS = l.findVarHandle(EndpointRuntime.class, "trialPermits", int.class);
      OVERLOADED = l.findVarHandle(EndpointRuntime.class, "overloaded", long.class);
      LAST_SESSION = l.findVarHandle(EndpointRuntime.class, "lastSessionLeaseNanos", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String id;
  private final double ewmaTauNanos;
  private final int consecutiveFailureThreshold;
  private final long slowRequestNanos;
  private final Signals signals;

  private volatile Endpoint endpoint;
  private volatile EndpointState state;
  private volatile boolean routable;
  private volatile boolean awaitingIdle;
  private volatile boolean admitsSessions;
  private volatile long lastSessionLeaseNanos = Long.MIN_VALUE;
  private volatile @Nullable Transition lastTransition;

  private volatile long load;
  private volatile long failures;
  private volatile long cancellations;
  private volatile double ewmaNanos;
  private volatile long ewmaStampNanos;
  private volatile boolean sampled;
  private volatile int consecutiveFailures;
  private volatile boolean halfOpen;
  private volatile int trialPermits;
  private volatile long overloaded;
  private volatile long penaltyUntilNanos = Long.MIN_VALUE;

  /**
   * A runtime in {@code initialState}, not yet routable.
   *
   * @param ewmaTauNanos the EWMA's time constant
   * @param defaultRttNanos the EWMA's value before the first sample
   * @param consecutiveFailureThreshold report every this many consecutive failures; 0 never
   * @param slowRequestNanos a lease cancelled after this long counts as a failure; 0 never
   */
  public EndpointRuntime(
      Endpoint endpoint,
      EndpointState initialState,
      double ewmaTauNanos,
      long defaultRttNanos,
      int consecutiveFailureThreshold,
      long slowRequestNanos,
      long nowNanos,
      Signals signals) {
    this.slowRequestNanos = slowRequestNanos;
    this.id = endpoint.id();
    this.endpoint = endpoint;
    this.state = initialState;
    this.ewmaTauNanos = ewmaTauNanos;
    this.ewmaNanos = defaultRttNanos;
    this.ewmaStampNanos = nowNanos;
    this.consecutiveFailureThreshold = consecutiveFailureThreshold;
    this.signals = signals;
  }

  // ---- data path
  // -------------------------------------------------------------------------------

  /** {@link #tryStartLease} refused. */
  public static final int REFUSED = 0;

  /** {@link #tryStartLease} started an ordinary lease. */
  public static final int STARTED = 1;

  /** {@link #tryStartLease} started a half-open trial lease (it holds a trial permit). */
  public static final int STARTED_TRIAL = 2;

  /**
   * Counts a new lease. Returns {@link #REFUSED} (and counts nothing) when the endpoint stopped
   * routing, holds the most leases one endpoint may count, or is half-open with its trial full;
   * {@link #STARTED_TRIAL} when the lease took a half-open trial permit; else {@link #STARTED}.
   */
  public int tryStartLease() {
    long before = (long) LOAD.getAndAdd(this, 1L);
    if (routable && (before & IN_FLIGHT_MASK) < MAX_IN_FLIGHT) {
      if (!halfOpen) {
        return STARTED;
      }
      // Half-open: only a bounded number of trial requests get through.
      if ((int) TRIAL_PERMITS.getAndAdd(this, -1) > 0) {
        return STARTED_TRIAL;
      }
      TRIAL_PERMITS.getAndAdd(this, 1);
    }
    endLease(-1L);
    return REFUSED;
  }

  /**
   * Counts a new lease for a session pinned to this endpoint: as {@link #tryStartLease} while the
   * endpoint is healthy and routable; while it is draining and still {@linkplain #admitsSessions
   * admits sessions}, an ordinary lease. Either way it stamps {@code nowNanos} as the last session
   * activity, which holds a drain open while its sessions are active. Else {@link #REFUSED}.
   */
  public int tryStartSessionLease(long nowNanos) {
    if (routable && state == EndpointState.HEALTHY) {
      int started = tryStartLease();
      if (started != REFUSED) {
        stampSession(nowNanos);
        return started;
      }
      // It left rotation a moment ago, maybe for a drain that admits sessions: fall through.
    }
    if (!admitsSessions) {
      // Refused without counting: no lease end, so no idle signal to the control context.
      return REFUSED;
    }
    long before = (long) LOAD.getAndAdd(this, 1L);
    if (admitsSessions && (before & IN_FLIGHT_MASK) < MAX_IN_FLIGHT) {
      stampSession(nowNanos);
      return STARTED;
    }
    endLease(-1L);
    return REFUSED;
  }

  // At most one store per millisecond: the stamp only needs to say whether sessions were active
  // within the drain's quiet period, and a store per request would contend on a busy endpoint.
  private void stampSession(long nowNanos) {
    long last = lastSessionLeaseNanos;
    if (last == Long.MIN_VALUE || nowNanos - last >= 1_000_000L) {
      LAST_SESSION.setRelease(this, nowNanos);
    }
  }

  /**
   * Ends a lease with its outcome; {@code latencyNanos < 0} means unknown. {@code trial} says the
   * lease holds a half-open trial permit: its success or failure is the trial's verdict, and a
   * lease that gives no verdict (cancelled, overloaded) hands its permit back. A timed cancellation
   * is a lower bound on the latency, and at or above the slow-request threshold a failure (see the
   * class comment).
   */
  public void completeLease(Outcome outcome, long latencyNanos, long nowNanos, boolean trial) {
    Outcome counted = outcome;
    if (latencyNanos >= 0) {
      if (outcome != Outcome.CANCELLED) {
        observeLatency(latencyNanos, nowNanos);
      } else {
        if (latencyNanos > ewmaNanosAt(nowNanos)) {
          observeLatency(latencyNanos, nowNanos);
        }
        if (slowRequestNanos > 0 && latencyNanos >= slowRequestNanos) {
          CANCELLATIONS.getAndAdd(this, 1L);
          counted = Outcome.FAILURE;
        }
      }
    }
    switch (counted) {
      case SUCCESS -> {
        if (consecutiveFailures != 0) {
          CONSECUTIVE_FAILURES.setRelease(this, 0);
        }
        if (trial) {
          signals.onTrialResult(this, true);
        }
        endLease(SUCCESS_AND_END);
      }
      case FAILURE -> {
        FAILURES.getAndAdd(this, 1L);
        int consecutive = (int) CONSECUTIVE_FAILURES.getAndAdd(this, 1) + 1;
        if (consecutiveFailureThreshold > 0 && consecutive % consecutiveFailureThreshold == 0) {
          signals.onConsecutiveFailures(this, consecutive);
        }
        if (trial) {
          signals.onTrialResult(this, false);
        }
        endLease(-1L);
      }
      case OVERLOADED -> {
        OVERLOADED.getAndAdd(this, 1L);
        if (trial && halfOpen) {
          TRIAL_PERMITS.getAndAdd(this, 1);
        }
        endLease(-1L);
      }
      case CANCELLED -> {
        CANCELLATIONS.getAndAdd(this, 1L);
        if (trial && halfOpen) {
          TRIAL_PERMITS.getAndAdd(this, 1);
        }
        endLease(-1L);
      }
      default -> throw new AssertionError(outcome);
    }
  }

  /**
   * Asks the control context to hold this endpoint back until {@code untilNanos}, unless a penalty
   * at least that long is already in force (so a storm of 429s costs one control task, not one per
   * response).
   */
  public void penalize(long untilNanos) {
    if (untilNanos > penaltyUntilNanos) {
      signals.onOverloaded(this, untilNanos);
    }
  }

  private void endLease(long delta) {
    long after = (long) LOAD.getAndAdd(this, delta) + delta;
    if ((after & IN_FLIGHT_MASK) == 0 && awaitingIdle) {
      signals.onIdle(this);
    }
  }

  // Release stores, not volatile ones: readers need a recent value, not a total order, and a
  // volatile store is a full fence on x86 (see the class comment on lost samples).
  private void observeLatency(long latencyNanos, long nowNanos) {
    double current = ewmaNanos;
    if (latencyNanos > current) {
      EWMA.setRelease(this, (double) latencyNanos);
    } else {
      double w = decay(nowNanos - ewmaStampNanos);
      EWMA.setRelease(this, current * w + latencyNanos * (1.0 - w));
    }
    EWMA_STAMP.setRelease(this, nowNanos);
    if (!sampled) {
      sampled = true;
    }
  }

  /**
   * {@code exp(-dt / tau)}. Busy endpoints update every few microseconds, so {@code dt / tau} is
   * usually tiny: there a second-order Taylor polynomial is exact to 5e-6 and costs a few
   * multiplies instead of a call to {@link Math#exp}.
   */
  private double decay(long dtNanos) {
    if (dtNanos <= 0) {
      return 1.0;
    }
    double x = dtNanos / ewmaTauNanos;
    return x < 0.03 ? 1.0 - x + 0.5 * x * x : Math.exp(-x);
  }

  /** Open leases. */
  public int inFlight() {
    return (int) (load & IN_FLIGHT_MASK);
  }

  /** When the current Retry-After penalty ends, on the ticker; in the past when there is none. */
  public long penaltyUntilNanos() {
    return penaltyUntilNanos;
  }

  /** Control context only. */
  public void penaltyUntilNanos(long untilNanos) {
    this.penaltyUntilNanos = untilNanos;
  }

  /** Control context only: opens or closes the half-open gate with {@code permits} trials. */
  public void halfOpen(boolean open, int permits) {
    TRIAL_PERMITS.setVolatile(this, permits);
    this.halfOpen = open;
  }

  /** Whether trial requests are being gated. */
  public boolean halfOpen() {
    return halfOpen;
  }

  /** Consecutive failed completions right now. */
  public int consecutiveFailures() {
    return consecutiveFailures;
  }

  /** Control context only: a recovered endpoint starts its failure streak afresh. */
  public void clearConsecutiveFailures() {
    CONSECUTIVE_FAILURES.setRelease(this, 0);
  }

  /** Completions reported as overloaded (429, or 503 with Retry-After). */
  public long overloaded() {
    return overloaded;
  }

  /** Whether any latency sample (a completion or a timed cancellation) has been taken. */
  public boolean sampled() {
    return sampled;
  }

  /** Peak-EWMA latency decayed to {@code nowNanos}, in nanoseconds. */
  public double ewmaNanosAt(long nowNanos) {
    return ewmaNanos * decay(nowNanos - ewmaStampNanos);
  }

  // ---- control context
  // -------------------------------------------------------------------------

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

  /** Control context only: whether pinned sessions may still start leases here while it drains. */
  public void admitSessions(boolean value) {
    this.admitsSessions = value;
  }

  /** Whether pinned sessions may still start leases here (a drain that has not settled). */
  public boolean admitsSessions() {
    return admitsSessions;
  }

  /**
   * When a pinned session last started a lease here (to the millisecond); {@code Long.MIN_VALUE}:
   * never.
   */
  public long lastSessionLeaseNanos() {
    return lastSessionLeaseNanos;
  }

  /** Whether the control context waits for this endpoint to become idle. */
  public boolean awaitingIdle() {
    return awaitingIdle;
  }

  /** Successful completions so far (modulo 2^44). */
  public long successes() {
    return load >>> IN_FLIGHT_BITS;
  }

  /** Failed completions so far. */
  public long failures() {
    return failures;
  }

  /** Cancelled completions so far (slow ones also count as failures). */
  public long cancellations() {
    return cancellations;
  }

  @Override
  public String toString() {
    return id + "[" + state + ", inFlight=" + inFlight() + "]";
  }
}
