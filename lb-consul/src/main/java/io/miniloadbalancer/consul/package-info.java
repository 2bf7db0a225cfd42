/**
 * Consul adapter for the balancer: an endpoint source fed by blocking health queries.
 *
 * <p>Not built yet: this module only holds its place in the reactor until its issue lands.
 */
@NullMarked
package io.miniloadbalancer.consul;

import org.jspecify.annotations.NullMarked;
