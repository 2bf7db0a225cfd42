/**
 * The balancer's public API: {@link io.miniloadbalancer.core.LoadBalancer}, its {@link
 * io.miniloadbalancer.core.Lease leases}, {@link io.miniloadbalancer.core.Endpoint endpoints} and
 * the immutable {@link io.miniloadbalancer.core.BalancerSnapshot snapshot} it can be inspected by.
 *
 * <p>Where the request side's stages live: {@link io.miniloadbalancer.core.LoadBalancerBuilder}
 * freezes the settings and starts a balancer; {@link io.miniloadbalancer.core.LoadBalancer#acquire}
 * reads the published table and asks the strategy's picker ({@link
 * io.miniloadbalancer.core.strategy}); the {@link io.miniloadbalancer.core.Lease} carries the
 * outcome back; {@link io.miniloadbalancer.core.RetryExecutor} and its {@link
 * io.miniloadbalancer.core.RetryExecutor.RetryTracker} (one retry engine, blocking or not) decide
 * retries against the shared budget; {@link io.miniloadbalancer.core.HttpOutcomes} maps HTTP
 * answers to outcomes for every adapter.
 */
@NullMarked
package io.miniloadbalancer.core;

import org.jspecify.annotations.NullMarked;
