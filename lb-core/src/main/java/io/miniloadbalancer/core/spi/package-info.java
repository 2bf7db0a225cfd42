/**
 * Extension points: where endpoints come from ({@link
 * io.miniloadbalancer.core.spi.EndpointSource}), what observes the balancer ({@link
 * io.miniloadbalancer.core.spi.BalancerListener}) and where time comes from ({@link
 * io.miniloadbalancer.core.spi.Ticker}).
 */
@NullMarked
package io.miniloadbalancer.core.spi;

import org.jspecify.annotations.NullMarked;
