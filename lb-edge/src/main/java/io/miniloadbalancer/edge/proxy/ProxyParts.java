package io.miniloadbalancer.edge.proxy;

import io.miniloadbalancer.edge.config.AddressRanges;
import io.miniloadbalancer.edge.http.Readiness;
import io.netty.channel.group.ChannelGroup;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every client connection of the proxy listener shares, built once by {@link DataPlane}: the
 * pool lookup, the upstream connection source, the protocol-error log, the meters and the access
 * log, the per-client cap, the settings the exchanges read, and the count of exchanges in flight.
 */
record ProxyParts(
    Router router,
    UpstreamConnections upstream,
    ProtocolLog protocolLog,
    EdgeMeters meters,
    AccessLog accessLog,
    ClientConnectionCap clientCap,
    AddressRanges trustedProxies,
    Readiness readiness,
    long maxBodyBytes,
    Duration responseTimeout,
    ChannelGroup clients,
    AtomicInteger inFlight) {}
