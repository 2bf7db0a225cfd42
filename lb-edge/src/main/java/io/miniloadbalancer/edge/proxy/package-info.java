/**
 * The proxy room, the data path: {@link io.miniloadbalancer.edge.proxy.DataPlane} is its door. A
 * request passes, in order: {@code ProxyHandler} (one per client connection: message rules, routing
 * through {@code Router}, pipelining), {@code ProxyExchange} (one per request: lease, upstream
 * attempt, retries), {@code ForwardingHeaders} (the upstream request head), {@code
 * UpstreamConnections} and {@code UpstreamHandler} (pooled backend connections), {@code
 * ResponseRelay} (the response back), {@code WebSocketTunnel} (an upgraded connection) and {@code
 * ExchangeEndings} (how each exchange ends). Beside them: {@code MessageRules}, {@code
 * StickySessions}, {@code ProtocolLog}, {@code ClientConnectionCap}.
 */
@NullMarked
package io.miniloadbalancer.edge.proxy;

import org.jspecify.annotations.NullMarked;
