/**
 * The control side of a balancer, one class per stage. Everything here runs on the pool's control
 * context (one logical thread, {@link io.miniloadbalancer.core.internal.ControlContext}), entered
 * through {@link io.miniloadbalancer.core.internal.PoolController}; the data path never calls in
 * except through {@link io.miniloadbalancer.core.internal.EndpointRuntime.Signals}, which only
 * queues a step.
 *
 * <p>In the order of the data flow (source -> control executor -> routing table):
 *
 * <ul>
 *   <li>{@link io.miniloadbalancer.core.internal.control.Membership}: applies the endpoint source's
 *       sets (joins, updates, the source's verdict, removals).
 *   <li>{@link io.miniloadbalancer.core.internal.control.EndpointHealth}: the per-endpoint state
 *       machine; it owns the facts (source verdict, active checks, holds, breaker, ramp) and is the
 *       one place they become an {@link io.miniloadbalancer.core.EndpointState}.
 *   <li>{@link io.miniloadbalancer.core.internal.control.ActiveHealth}: probe chains, rise/fall.
 *   <li>{@link io.miniloadbalancer.core.internal.control.OutlierEjection}: passive health (failure
 *       rates, consecutive failures, half-open trials) under the max-ejection floor.
 *   <li>{@link io.miniloadbalancer.core.internal.control.Penalties}: Retry-After pauses.
 *   <li>{@link io.miniloadbalancer.core.internal.control.Drains}: operator drains, maintenance,
 *       removal, and settling them once idle.
 *   <li>{@link io.miniloadbalancer.core.internal.control.SlowStartRamp}: slow start's clock.
 *   <li>{@link io.miniloadbalancer.core.internal.control.TablePublisher} (with {@code
 *       ZonePreference}): builds and publishes the {@link
 *       io.miniloadbalancer.core.internal.RoutingTable}: panic floor, zones, penalties, slow-start
 *       weights, the strategy's picker.
 *   <li>{@link io.miniloadbalancer.core.internal.control.StrategySwitcher}: runtime switches with a
 *       dwell-time guard.
 *   <li>{@link io.miniloadbalancer.core.internal.control.SnapshotAssembler}: introspection, from
 *       published state only.
 * </ul>
 *
 * <p>Shared by the stages: {@link io.miniloadbalancer.core.internal.control.Pool} (members, clock,
 * timers, the step runner), {@link io.miniloadbalancer.core.internal.control.Member} (one endpoint
 * with each stage's private bookkeeping), and {@link
 * io.miniloadbalancer.core.internal.control.Journal}, which writes the typed {@link
 * io.miniloadbalancer.core.internal.control.ControlEvent}s a step collected in its {@link
 * io.miniloadbalancer.core.internal.control.Effects} to the logs and, after publishing, to the
 * listeners.
 */
@NullMarked
package io.miniloadbalancer.core.internal.control;

import org.jspecify.annotations.NullMarked;
