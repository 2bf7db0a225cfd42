package io.miniloadbalancer.edge.proxy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * {@code server.maxConnectionsPerClient}: open connections per client address. The table holds one
 * entry per address with an open connection, so it is bounded by the open connections themselves.
 */
final class ClientConnectionCap {

  private final int max;
  private final ConcurrentMap<InetAddress, AtomicInteger> open = new ConcurrentHashMap<>();

  ClientConnectionCap(int max) {
    this.max = max;
  }

  /** Counts a new connection; false (and nothing counted) when the address is at its cap. */
  boolean admit(SocketAddress peer) {
    InetAddress a = address(peer);
    if (max == 0 || a == null) {
      return true;
    }
    boolean[] admitted = {false};
    open.compute(
        a,
        (k, n) -> {
          AtomicInteger count = n == null ? new AtomicInteger() : n;
          if (count.get() < max) {
            count.incrementAndGet();
            admitted[0] = true;
          }
          return count.get() == 0 ? null : count;
        });
    return admitted[0];
  }

  /** A counted connection closed. */
  void release(SocketAddress peer) {
    InetAddress a = address(peer);
    if (max == 0 || a == null) {
      return;
    }
    open.computeIfPresent(a, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
  }

  private static @Nullable InetAddress address(SocketAddress peer) {
    return peer instanceof InetSocketAddress s ? s.getAddress() : null;
  }
}
