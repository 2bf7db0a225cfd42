/**
 * Consul adapter for the balancer: {@link io.miniloadbalancer.consul.ConsulEndpointSource}, an
 * endpoint source fed by blocking health queries with sanity guards, and {@link
 * io.miniloadbalancer.consul.ConsulRegistration}, self-registration with a check and a graceful
 * maintenance-then-deregister on shutdown. Both talk to the local agent through
 * org.kiwiproject:consul-client.
 */
@NullMarked
package io.miniloadbalancer.consul;

import org.jspecify.annotations.NullMarked;
