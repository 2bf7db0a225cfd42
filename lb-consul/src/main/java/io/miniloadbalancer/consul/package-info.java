/**
 * Consul adapter for the balancer: {@link io.miniloadbalancer.consul.ConsulEndpointSource}, an
 * endpoint source fed by blocking health queries with sanity guards, and {@link
 * io.miniloadbalancer.consul.ConsulRegistration}, self-registration with a check and a graceful
 * maintenance-then-deregister on shutdown. Both talk to the local agent through
 * org.kiwiproject:consul-client.
 *
 * <p>One class per stage. Discovery: {@code ConsulEndpointSource} (settings, start, snapshot,
 * close) runs {@code ConsulWatch} (the loop: query, map, guard, publish, pace, back off) on one
 * thread; {@code BlockingQueries} holds the index rules, read timeout and backoff; {@code
 * ConsulMapping} turns an answer into endpoints and health; {@code UpdateGuard} holds back an
 * answer that empties or sharply shrinks the set. Registration: {@code ConsulRegistration}
 * (settings, register, reports) sends {@code RegistrationPayload}, keeps a TTL check alive with
 * {@code TtlHeartbeats}, and leaves through {@code DrainThenDeregister}.
 */
@NullMarked
package io.miniloadbalancer.consul;

import org.jspecify.annotations.NullMarked;
