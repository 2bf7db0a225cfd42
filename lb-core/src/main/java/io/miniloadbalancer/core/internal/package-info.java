/**
 * Implementation details of lb-core. Not exported; may change without notice.
 *
 * <p>Where each stage of the data flow (source -> control executor -> routing table -> pick ->
 * lease -> outcome) lives:
 *
 * <ul>
 *   <li><b>source -> control executor</b>: {@link io.miniloadbalancer.core.internal.PoolController}
 *       takes endpoint sets, operator actions and data-path signals and runs each, in order, as a
 *       step on its {@link io.miniloadbalancer.core.internal.ControlContext}; the stages themselves
 *       (state machine, active and passive health, drains, slow start, publishing, snapshots) are
 *       in {@link io.miniloadbalancer.core.internal.control}. Timers come from the injected
 *       scheduler ({@link io.miniloadbalancer.core.internal.SystemScheduler} by default).
 *   <li><b>routing table</b>: {@link io.miniloadbalancer.core.internal.RoutingTable}, immutable,
 *       published with one volatile write and read with one volatile read.
 *   <li><b>pick</b>: the strategies' {@link io.miniloadbalancer.core.strategy.Picker}s (the public
 *       SPI), created by {@link io.miniloadbalancer.core.internal.strategy.StrategyRegistry} when a
 *       table is published; the built-in seven are in {@link
 *       io.miniloadbalancer.core.internal.strategy}.
 *   <li><b>lease -> outcome</b>: {@link io.miniloadbalancer.core.internal.EndpointRuntime}, the
 *       per-endpoint counters the data path updates with atomics, and which reports to the control
 *       side through its {@link io.miniloadbalancer.core.internal.EndpointRuntime.Signals}; the
 *       retry budget is {@link io.miniloadbalancer.core.internal.RetryBudget}.
 *   <li>bounded logs (transitions, pool events): {@link
 *       io.miniloadbalancer.core.internal.EventLog}.
 * </ul>
 */
@NullMarked
package io.miniloadbalancer.core.internal;

import org.jspecify.annotations.NullMarked;
