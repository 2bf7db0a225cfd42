package io.miniloadbalancer.edge.proxy;

import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.RetryExecutor;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * A configured pool at run time: its balancer, retry policy, where its hash key comes from, its
 * affinity cookie, if any, its meters, and its request timeout (sending the request to the response
 * head).
 */
record PoolRuntime(
    String name,
    LoadBalancer balancer,
    RetryExecutor retries,
    @Nullable String hashKey,
    @Nullable StickySessions sticky,
    EdgeMeters.Pool meters,
    long requestTimeoutNanos) {

  /** The request's hash key per the pool's {@code hashKey} setting; none when absent. */
  RequestContext context(HttpRequest request, SocketAddress remote) {
    String key = key(request, remote);
    return key == null ? RequestContext.none() : RequestContext.ofKey(key);
  }

  @Nullable String key(HttpRequest request, SocketAddress remote) {
    if (hashKey == null) {
      return null;
    }
    if (hashKey.equals("client-address")) {
      return remote instanceof InetSocketAddress a && a.getAddress() != null
          ? a.getAddress().getHostAddress()
          : null;
    }
    if (hashKey.startsWith("header:")) {
      return request.headers().get(hashKey.substring("header:".length()));
    }
    String cookieName = hashKey.substring("cookie:".length());
    for (String header : request.headers().getAll(HttpHeaderNames.COOKIE)) {
      for (Cookie c : ServerCookieDecoder.LAX.decode(header)) {
        if (c.name().equals(cookieName)) {
          return c.value();
        }
      }
    }
    return null;
  }
}
