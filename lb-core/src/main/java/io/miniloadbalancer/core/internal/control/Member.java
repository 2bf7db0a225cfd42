package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.internal.EndpointRuntime;

/**
 * One endpoint as the control side holds it: the data-path object, the state machine, and each
 * stage's own bookkeeping for it. A stage's part is opaque to the others: its fields are private to
 * that stage's class. Confined to the control context, except what snapshots read (volatile).
 */
public final class Member {

  private final EndpointRuntime runtime;
  private final EndpointHealth health;
  final ActiveHealth.Track probe = new ActiveHealth.Track();
  final OutlierEjection.Track outlier = new OutlierEjection.Track();
  final Drains.Track drain = new Drains.Track();
  final Penalties.Track penalty = new Penalties.Track();

  Member(EndpointRuntime runtime, EndpointHealth health) {
    this.runtime = runtime;
    this.health = health;
  }

  /** The endpoint's stable id. */
  public String id() {
    return runtime.id();
  }

  /** The data-path object: counters, routable flag, published state. */
  public EndpointRuntime runtime() {
    return runtime;
  }

  /** The endpoint's state machine. */
  EndpointHealth health() {
    return health;
  }

  /** The current state. */
  EndpointState state() {
    return runtime.state();
  }

  /** Stops every timer any stage runs for this endpoint (removal, close). */
  void cancelTimers() {
    probe.cancel();
    outlier.cancel();
    drain.cancel();
    penalty.cancel();
  }
}
