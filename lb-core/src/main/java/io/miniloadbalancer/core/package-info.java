/**
 * The balancer's public API: {@link io.miniloadbalancer.core.LoadBalancer}, its {@link
 * io.miniloadbalancer.core.Lease leases}, {@link io.miniloadbalancer.core.Endpoint endpoints} and
 * the immutable {@link io.miniloadbalancer.core.BalancerSnapshot snapshot} it can be inspected by.
 */
@NullMarked
package io.miniloadbalancer.core;

import org.jspecify.annotations.NullMarked;
