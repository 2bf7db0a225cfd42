package io.miniloadbalancer.edge.proxy;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.HttpOutcomes;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.RetryExecutor;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One proxied request, from its head to the end of its response, run entirely on the client
 * connection's event loop (upstream connections are pooled per loop, so their events arrive there
 * too). Bodies stream both ways with back-pressure: a side that cannot take more stops the other
 * side's reads until it drains. Nothing is buffered beyond what one read brings in while the
 * upstream connection is being set up.
 *
 * <p>Framing: the request's framing was checked by {@link MessageRules} and is re-written here
 * (Content-Length kept, or chunked); every response head is checked before a byte of it is relayed.
 * A backend that breaks HTTP (a malformed head, a body that ends early or runs on, an unasked 101)
 * loses the connection, which never returns to the pool; its request fails as a 502 (when nothing
 * was sent yet) or by closing the client connection (so the truncation shows), and the endpoint is
 * charged a failure.
 *
 * <p>Interim responses (1xx other than 101) are relayed to HTTP/1.1 clients, then the final one. A
 * WebSocket upgrade ({@code Upgrade: websocket} on GET) is balanced like any request; on the
 * backend's 101 both connections leave HTTP and the exchange relays bytes both ways until either
 * side closes, holding its lease (so a drain of that endpoint waits for it).
 *
 * <p>The exchange holds the state; its stages are classes of their own that read and write it, all
 * on the client connection's event loop: {@link ForwardingHeaders} rewrites the request head,
 * {@link ResponseRelay} relays the response, {@link WebSocketTunnel} carries an upgraded
 * connection, and {@link ExchangeEndings} settles every ending (finish, retry, failure, cut).
 *
 * <p>Retries: only for idempotent requests (lb-core's {@link HttpOutcomes#isIdempotent}: the
 * method, or an {@code Idempotency-Key}) without a body (a body is streamed, not kept, so it cannot
 * be sent twice), on connect failures, connections lost before the response head, the pool's
 * request timeout, malformed heads and the answers {@link HttpOutcomes#isRetryable} names (every
 * 5xx and 429), always on another endpoint, within lb-core's policy and shared budget ({@link
 * RetryExecutor.RetryTracker}). Every attempt writes a complete request (head and end), so a
 * connection is never left mid-message.
 */
final class ProxyExchange implements UpstreamPool.Acquirer {

  /**
   * Re-sends on another pooled connection after stale ones (see onUpstreamClosed); then a new one
   * is made.
   */
  static final int MAX_STALE_RETRIES = 3;

  final ProxyHandler owner;
  final ProxyParts parts;
  final ResponseRelay relay = new ResponseRelay(this);
  final ExchangeEndings endings = new ExchangeEndings(this);
  final ChannelHandlerContext client;
  final PoolRuntime pool;
  final HttpRequest request;
  final String upstreamUri;
  final boolean clientKeepAlive;
  final boolean http10Client;
  final boolean bodyless;
  final boolean headRequest;
  final boolean chunkedRequest;
  final boolean upgradeAsked;
  final boolean idempotent;
  final RetryExecutor.RetryTracker retries;

  /** Request body pieces read before the upstream connection was ready (made when first needed). */
  @Nullable ArrayDeque<HttpContent> pending;

  final long startNanos = System.nanoTime();

  RequestContext context;
  @Nullable String affinityToken;
  @Nullable String pinnedEndpoint;
  @Nullable Lease lease;
  @Nullable Channel upstream;
  @Nullable UpstreamPool upstreamPool;
  @Nullable String requestId;

  /**
   * Whether {@code request.headers()} now hold the upstream's headers (hop-by-hop removed,
   * forwarding headers added; see upstreamHead): read what the client sent before the first
   * attempt.
   */
  boolean upstreamHeadersReady;

  boolean requestComplete;
  boolean responseStarted;

  /** A 1xx head was relayed; the decoder's empty end of it is not the response's end. */
  boolean interim;

  /** The response goes to the client close-delimited (HTTP/1.0 client, unknown length). */
  boolean closeDelimited;

  @Nullable WebSocketTunnel tunnel;
  boolean upstreamReusable = true;
  boolean done;
  long bodyBytes;
  long responseBytes;
  long headLatencyNanos;
  int status;

  /** The pause the current answer's {@code Retry-After} asks for; null when it had none. */
  java.time.@Nullable Duration retryAfter;

  int attempt;

  /** Whether the current attempt's connection came back from the pool (served a request before). */
  boolean reusedConnection;

  int staleRetries;

  ProxyExchange(
      ProxyHandler owner,
      ChannelHandlerContext client,
      PoolRuntime pool,
      HttpRequest request,
      String upstreamUri,
      RequestContext context) {
    this.owner = owner;
    this.parts = owner.parts();
    this.client = client;
    this.pool = pool;
    this.request = request;
    this.upstreamUri = upstreamUri;
    this.context = context;
    this.clientKeepAlive = HttpUtil.isKeepAlive(request);
    this.http10Client = request.protocolVersion().minorVersion() == 0;
    this.chunkedRequest = HttpUtil.isTransferEncodingChunked(request);
    long length = HttpUtil.getContentLength(request, 0L);
    this.bodyless = !chunkedRequest && length == 0;
    // A request without a body is complete with its head: every attempt writes its end itself,
    // so
    // even an attempt that fails before the decoder hands on the (empty) end may be retried.
    this.requestComplete = bodyless;
    this.headRequest = request.method().equals(HttpMethod.HEAD);
    this.upgradeAsked = WebSocketTunnel.isUpgrade(request) && bodyless;
    // lb-core's one table: an idempotent method, or any method with an Idempotency-Key.
    this.idempotent =
        HttpOutcomes.isIdempotent(
            request.method().name(), request.headers().contains(HttpOutcomes.IDEMPOTENCY_KEY));
    this.retries = pool.retries().track(bodyless && idempotent);
    StickySessions sticky = pool.sticky();
    if (sticky != null) {
      this.affinityToken = sticky.token(request.headers());
      this.pinnedEndpoint = sticky.pinnedEndpoint(affinityToken);
    }
  }

  // ---- start and (re)connect
  // ---------------------------------------------------------------------

  void start() {
    connect();
  }

  void connect() {
    if (done) {
      return;
    }
    Lease l = null;
    if (attempt == 0 && pinnedEndpoint != null) {
      // The session's endpoint, while routable or draining; else balanced anew and re-pinned.
      l = pool.balancer().acquirePinned(pinnedEndpoint);
      pool.sticky().pinnedResult(l != null);
    }
    try {
      if (l == null) {
        l = pool.balancer().acquire(context);
      }
    } catch (NoEndpointAvailableException e) {
      if (attempt == 0) {
        endings.fail(
            HttpResponseStatus.SERVICE_UNAVAILABLE,
            "unserved",
            "no endpoint available in pool '" + pool.name() + "': " + e.getMessage());
      } else {
        retries.refund();
        endings.fail(
            HttpResponseStatus.BAD_GATEWAY,
            "unserved",
            "no untried endpoint left in pool '" + pool.name() + "'");
      }
      return;
    }
    lease = l;
    attempt++;
    Endpoint endpoint = l.endpoint();
    UpstreamPool p = parts.upstream().pool(client.channel().eventLoop(), endpoint);
    upstreamPool = p;
    p.acquire(this, attempt);
  }

  @Override
  public void acquireFailed(Throwable cause, int forAttempt) {
    if (forAttempt == attempt && !done) {
      if (cause instanceof ClosedChannelException && staleRetries < MAX_STALE_RETRIES) {
        // The new connection was closed on this side before its connect finished: nothing was
        // sent and the endpoint said nothing. Seen when a client closes while uploading and the
        // new socket reuses its descriptor within one epoll batch (the closed socket's pending
        // read lands on the connecting one). Tried again on another new connection, for any
        // method (the request has not left the proxy), not charged to the endpoint or the budget.
        staleRetries++;
        upstreamPool.acquire(this, attempt);
        return;
      }
      if (cause instanceof java.util.concurrent.TimeoutException) {
        // Every connection of upstream.maxConnectionsPerEndpoint is busy: the proxy's
        // own
        // limit, not the endpoint's failure (503, as for a full queue; never charged to
        // it).
        endings.endLease(Outcome.CANCELLED);
        endings.fail(
            HttpResponseStatus.SERVICE_UNAVAILABLE,
            "pool_full",
            "no free connection to "
                + describeEndpoint()
                + " within upstream.connectTimeout"
                + " (upstream.maxConnectionsPerEndpoint in use)");
        return;
      }
      pool.meters().connectError();
      endings.endLease(Outcome.FAILURE);
      endings.retryOrFail(
          HttpResponseStatus.BAD_GATEWAY,
          "connect",
          "connect to " + describeEndpoint() + " failed: " + MessageRules.describe(cause));
    }
  }

  @Override
  public void acquired(Channel ch, int forAttempt) {
    if (done || forAttempt != attempt) {
      UpstreamPool.giveBack(ch, true);
      return;
    }
    upstream = ch;
    upstreamReusable = true;
    reusedConnection = ch.attr(UpstreamHandler.USED).getAndSet(Boolean.TRUE) != null;
    ch.attr(UpstreamHandler.EXCHANGE).set(this);
    ch.config().setAutoRead(true);
    UpstreamConnections.decoder(ch).expectResponseTo(headRequest);
    // Writes take the void promise: a write that fails (a pooled connection the backend reset a
    // moment ago) reaches UpstreamHandler.exceptionCaught, which ends the attempt at once instead
    // of waiting for a response that cannot come, with no promise or listener per request.
    if (bodyless) {
      // The whole request, head and end, on every attempt: a retry that wrote only the head
      // would
      // leave the connection's encoder mid-message, and the next request on it would never go
      // out.
      ch.write(upstreamHead(), ch.voidPromise());
      ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
      relay.startTimer();
    } else {
      ch.write(upstreamHead(), ch.voidPromise());
      ArrayDeque<HttpContent> early = pending;
      while (early != null && !early.isEmpty()) {
        ch.write(early.poll(), ch.voidPromise());
      }
      ch.flush();
      if (!requestComplete) {
        client.channel().config().setAutoRead(ch.isWritable());
      } else {
        relay.startTimer();
      }
    }
  }

  private HttpRequest upstreamHead() {
    HttpHeaders h = request.headers();
    if (!upstreamHeadersReady) {
      upstreamHeadersReady = true;
      ForwardingHeaders.ClientAddress address = owner.clientAddress();
      ForwardingHeaders.rewriteRequest(
          request,
          address,
          address.trusted(parts.trustedProxies()),
          upgradeAsked,
          chunkedRequest,
          pool.sticky());
    }
    h.set(HttpHeaderNames.HOST, upstreamPool.authority());
    return new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), upstreamUri, h);
  }

  // ---- request body
  // ------------------------------------------------------------------------------

  /** A piece of the request body from the client. Takes ownership of {@code content}. */
  void onClientContent(HttpContent content) {
    if (done) {
      ReferenceCountUtil.release(content);
      return;
    }
    boolean last = content instanceof LastHttpContent;
    if (last) {
      // Reads go on: a pipelined next request is held by the ProxyHandler until this one is
      // done.
      requestComplete = true;
    }
    if (bodyless) {
      // Nothing to forward: every attempt writes its own end (see onAcquired).
      ReferenceCountUtil.release(content);
      return;
    }
    bodyBytes += content.content().readableBytes();
    if (bodyBytes > parts.maxBodyBytes()) {
      ReferenceCountUtil.release(content);
      endings.clientFault(
          HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
          "request body exceeds server.maxBodyBytes (" + parts.maxBodyBytes() + ")");
      return;
    }
    if (last && !((LastHttpContent) content).trailingHeaders().isEmpty()) {
      // Trailer fields are never forwarded (RFC 9110 6.5.1 lets a proxy drop them): a trailer
      // could otherwise carry what the header checks refused (a second Host, say).
      ((LastHttpContent) content).trailingHeaders().clear();
    }
    Channel up = upstream;
    if (up == null) {
      if (pending == null) {
        pending = new ArrayDeque<>(4);
      }
      pending.add(content);
      client.channel().config().setAutoRead(false);
      return;
    }
    up.writeAndFlush(content, up.voidPromise());
    if (last) {
      relay.startTimer();
    } else if (!up.isWritable()) {
      client.channel().config().setAutoRead(false);
    }
  }

  void onUpstreamWritabilityChanged(Channel ch) {
    if (ch == upstream && (!requestComplete || tunnel != null) && !done) {
      client.channel().config().setAutoRead(ch.isWritable());
    }
  }

  void onClientWritabilityChanged() {
    Channel up = upstream;
    if (up != null && (responseStarted || tunnel != null) && !done) {
      up.config().setAutoRead(client.channel().isWritable());
    }
  }

  // ---- response
  // ----------------------------------------------------------------------------------

  // ---- events from the handlers, for the stages
  // ------------------------------------------------------

  /** A response head from the upstream connection {@code ch}. */
  void onResponseHead(Channel ch, HttpResponse response) {
    relay.onResponseHead(ch, response);
  }

  /** A piece of the response body. Takes ownership of {@code content}. */
  void onResponseContent(Channel ch, HttpContent content) {
    relay.onResponseContent(ch, content);
  }

  /** The backend's connection ended (closed, reset, idle, or a write failed). */
  void onUpstreamClosed(Channel ch, String why) {
    endings.onUpstreamClosed(ch, why);
  }

  /** The client went away (or the proxy is closing it). */
  void onClientClosed() {
    endings.onClientClosed();
  }

  /** The client broke the protocol or a client deadline passed mid-exchange. */
  void clientFault(HttpResponseStatus status, String why) {
    endings.clientFault(status, why);
  }

  /** Marks the exchange over: drops buffered request pieces and the response timer. */
  void stop() {
    done = true;
    ArrayDeque<HttpContent> early = pending;
    if (early != null) {
      early.forEach(ReferenceCountUtil::release);
      early.clear();
    }
    relay.cancelTimer();
  }

  // ---- websocket tunnel
  // --------------------------------------------------------------------------

  /** Bytes from the client of a tunnel. Takes ownership. */
  void onClientBytes(ByteBuf bytes) {
    WebSocketTunnel t = tunnel;
    if (t == null || done || upstream == null) {
      ReferenceCountUtil.release(bytes);
      return;
    }
    t.fromClient(bytes);
  }

  /** Bytes from the backend of a tunnel. Takes ownership. */
  void onUpstreamBytes(Channel ch, ByteBuf bytes) {
    WebSocketTunnel t = tunnel;
    if (t == null || done || ch != upstream) {
      ReferenceCountUtil.release(bytes);
      return;
    }
    t.fromUpstream(bytes);
  }

  boolean isTunnel() {
    return tunnel != null;
  }

  // ---- endings
  // -----------------------------------------------------------------------------------

  /** This exchange's id for logs and the client's error body; made when first needed. */
  String requestId() {
    if (requestId == null) {
      requestId = parts.protocolLog().newRequestId();
    }
    return requestId;
  }

  String describeEndpoint() {
    return lease == null ? "?" : lease.endpoint().id() + " (" + lease.endpoint().authority() + ")";
  }

  boolean isDone() {
    return done;
  }

  @Override
  public String toString() {
    return request.method()
        + " "
        + request.uri()
        + " -> "
        + pool.name()
        + "/"
        + describeEndpoint()
        + " attempt "
        + attempt
        + (done ? " done" : "")
        + " "
        + String.valueOf(status).toLowerCase(Locale.ROOT);
  }
}
