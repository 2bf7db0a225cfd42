/**
 * Micrometer binding for a balancer: {@link io.miniloadbalancer.metrics.LoadBalancerMetrics}, with
 * every meter name defined once in {@link io.miniloadbalancer.metrics.MeterNames}.
 */
@NullMarked
package io.miniloadbalancer.metrics;

import org.jspecify.annotations.NullMarked;
