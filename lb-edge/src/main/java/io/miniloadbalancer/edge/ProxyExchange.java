package io.miniloadbalancer.edge;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.RetryExecutor;
import io.miniloadbalancer.core.RetryPolicy;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.pool.FixedChannelPool;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One proxied request, from its head to the end of its response, run entirely on the client
 * connection's event loop (upstream connections are pooled per loop, so their events arrive there
 * too). Bodies stream both ways with back-pressure: a side that cannot take more stops the other
 * side's reads until it drains. Nothing is buffered beyond what one read brings in while the
 * upstream connection is being set up.
 *
 * <p>Retries: only for idempotent requests without a body, on connect failures, connections lost
 * before the response head, response timeouts and 502/503/504, on another endpoint, within lb-core's
 * policy and shared budget ({@link RetryExecutor.RetryTracker}). Once any response byte went to the
 * client, a failure closes the client connection instead.
 */
final class ProxyExchange {

  private static final List<String> HOP_BY_HOP =
      List.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "proxy-authenticate",
          "proxy-authorization",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade");

  private final ProxyHandler owner;
  private final ChannelHandlerContext client;
  private final PoolRuntime pool;
  private final HttpRequest request;
  private final String upstreamUri;
  private final boolean clientKeepAlive;
  private final boolean bodyless;
  private final boolean chunkedRequest;
  private final RetryExecutor.RetryTracker retries;
  private final ArrayDeque<HttpContent> pending = new ArrayDeque<>();
  private final long maxBodyBytes;

  private RequestContext context;
  private @Nullable String affinityToken;
  private @Nullable String pinnedEndpoint;
  private @Nullable Lease lease;
  private @Nullable Channel upstream;
  private @Nullable FixedChannelPool upstreamPool;
  private @Nullable ScheduledFuture<?> responseTimer;
  /**
   * Whether {@code request.headers()} now hold the upstream's headers (hop-by-hop removed,
   * forwarding headers added; see upstreamHead): read what the client sent before the first attempt.
   */
  private boolean upstreamHeadersReady;
  private boolean requestComplete;
  private boolean responseStarted;
  private boolean upstreamReusable = true;
  private boolean done;
  private long bodyBytes;
  private int status;
  private int attempt;

  ProxyExchange(
      ProxyHandler owner,
      ChannelHandlerContext client,
      PoolRuntime pool,
      HttpRequest request,
      String upstreamUri,
      RequestContext context,
      long maxBodyBytes) {
    this.owner = owner;
    this.client = client;
    this.pool = pool;
    this.request = request;
    this.upstreamUri = upstreamUri;
    this.context = context;
    this.maxBodyBytes = maxBodyBytes;
    this.clientKeepAlive = HttpUtil.isKeepAlive(request);
    this.chunkedRequest = HttpUtil.isTransferEncodingChunked(request);
    long length = HttpUtil.getContentLength(request, 0L);
    this.bodyless = !chunkedRequest && length == 0;
    this.retries =
        pool.retries().track(bodyless && RetryPolicy.isIdempotent(request.method().name()));
    StickySessions sticky = pool.sticky();
    if (sticky != null) {
      this.affinityToken = sticky.token(request.headers());
      this.pinnedEndpoint = sticky.pinnedEndpoint(affinityToken);
    }
  }

  // ---- start and (re)connect ---------------------------------------------------------------------

  void start() {
    connect();
  }

  private void connect() {
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
        fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "no endpoint available in pool '" + pool.name() + "': " + e.getMessage());
      } else {
        retries.refund();
        fail(HttpResponseStatus.BAD_GATEWAY, "no untried endpoint left in pool '" + pool.name() + "'");
      }
      return;
    }
    lease = l;
    attempt++;
    Endpoint endpoint = l.endpoint();
    FixedChannelPool p = owner.connections().pool(client.channel().eventLoop(), endpoint);
    upstreamPool = p;
    int thisAttempt = attempt;
    p.acquire().addListener((Future<Channel> f) -> onAcquired(f, thisAttempt));
  }

  private void onAcquired(Future<Channel> f, int forAttempt) {
    if (!f.isSuccess()) {
      if (forAttempt == attempt && !done) {
        endLease(Outcome.FAILURE);
        retryOrFail(HttpResponseStatus.BAD_GATEWAY, "connect to " + describeEndpoint() + " failed: " + f.cause().getMessage());
      }
      return;
    }
    Channel ch = f.getNow();
    if (done || forAttempt != attempt) {
      release(ch, true);
      return;
    }
    upstream = ch;
    upstreamReusable = true;
    ch.attr(UpstreamHandler.EXCHANGE).set(this);
    ch.config().setAutoRead(true);
    ch.write(upstreamHead(ch));
    while (!pending.isEmpty()) {
      ch.write(pending.poll());
    }
    ch.flush();
    if (!requestComplete) {
      client.channel().config().setAutoRead(ch.isWritable());
    } else {
      startResponseTimer();
    }
  }

  private HttpRequest upstreamHead(Channel ch) {
    HttpHeaders h = request.headers();
    if (!upstreamHeadersReady) {
      // The client's headers are rewritten in place, once, rather than copied: the copies were
      // about 30% of the proxy's allocation per request. Later attempts only change Host.
      upstreamHeadersReady = true;
      String originalHost = h.get(HttpHeaderNames.HOST);
      String xff = h.get("x-forwarded-for");
      stripHopByHop(h, h);
      String clientIp = clientAddress();
      h.set("x-forwarded-for", xff == null || xff.isBlank() ? clientIp : xff + ", " + clientIp);
      if (!h.contains("x-forwarded-proto")) {
        h.set("x-forwarded-proto", "http");
      }
      if (originalHost != null && !h.contains("x-forwarded-host")) {
        h.set("x-forwarded-host", originalHost);
      }
      appendVia(h, request.protocolVersion());
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      StickySessions sticky = pool.sticky();
      if (sticky != null) {
        sticky.strip(h); // the proxy's cookie, not the application's
      }
    }
    h.set(HttpHeaderNames.HOST, lease.endpoint().authority());
    HttpRequest out = new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), upstreamUri, h);
    if (chunkedRequest) {
      HttpUtil.setTransferEncodingChunked(out, true);
    }
    return out;
  }

  private String clientAddress() {
    if (client.channel().remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null) {
      return a.getAddress().getHostAddress();
    }
    return "unknown";
  }

  // ---- request body ------------------------------------------------------------------------------

  /** A piece of the request body from the client. Takes ownership of {@code content}. */
  void onClientContent(HttpContent content) {
    if (done) {
      ReferenceCountUtil.release(content);
      return;
    }
    bodyBytes += content.content().readableBytes();
    boolean last = content instanceof LastHttpContent;
    if (bodyBytes > maxBodyBytes) {
      ReferenceCountUtil.release(content);
      endLease(Outcome.CANCELLED);
      closeUpstream();
      fail(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request body exceeds server.maxBodyBytes (" + maxBodyBytes + ")", true);
      return;
    }
    if (last) {
      // Reads go on: a pipelined next request is held by the ProxyHandler until this one is done.
      requestComplete = true;
    }
    Channel up = upstream;
    if (up == null) {
      pending.add(content);
      client.channel().config().setAutoRead(false);
      return;
    }
    up.writeAndFlush(content);
    if (last) {
      startResponseTimer();
    } else if (!up.isWritable()) {
      client.channel().config().setAutoRead(false);
    }
  }

  void onUpstreamWritabilityChanged(Channel ch) {
    if (ch == upstream && !requestComplete && !done) {
      client.channel().config().setAutoRead(ch.isWritable());
    }
  }

  void onClientWritabilityChanged() {
    Channel up = upstream;
    if (up != null && responseStarted && !done) {
      up.config().setAutoRead(client.channel().isWritable());
    }
  }

  // ---- response ----------------------------------------------------------------------------------

  void onResponseHead(Channel ch, HttpResponse response) {
    if (ch != upstream || done) {
      return;
    }
    cancelResponseTimer();
    status = response.status().code();
    if ((status == 502 || status == 503 || status == 504) && !responseStarted && retryPossible()) {
      // Drop this answer and its connection; try another endpoint.
      upstreamReusable = false;
      closeUpstream();
      endLease(Outcome.FAILURE);
      retryOrFail(response.status(), "backend answered " + status);
      return;
    }
    responseStarted = true;
    // The backend's headers are rewritten in place rather than copied (see upstreamHead), so the
    // framing is read before the hop-by-hop headers that carry it are stripped.
    HttpHeaders h = response.headers();
    boolean hasBody = !(request.method().equals(HttpMethod.HEAD) || status == 204 || status == 304 || (status >= 100 && status < 200));
    // Close-delimited bodies are re-framed as chunked, so the client connection can be kept.
    boolean chunked = HttpUtil.isTransferEncodingChunked(response) || (hasBody && !HttpUtil.isContentLengthSet(response));
    if (!HttpUtil.isKeepAlive(response)) {
      upstreamReusable = false;
    }
    stripHopByHop(h, h);
    HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.status(), h);
    if (chunked) {
      HttpUtil.setTransferEncodingChunked(out, true);
    }
    appendVia(h, response.protocolVersion());
    pinSession(h);
    boolean keep = clientKeepAlive && !owner.draining();
    h.set(HttpHeaderNames.CONNECTION, keep ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
    client.write(out);
  }

  /** Pins the session to the endpoint that answered; a client without a token gets one. */
  private void pinSession(HttpHeaders responseHeaders) {
    StickySessions sticky = pool.sticky();
    if (sticky == null || lease == null) {
      return;
    }
    String served = lease.endpoint().id();
    if (served.equals(pinnedEndpoint)) {
      return;
    }
    String token = affinityToken;
    if (token == null) {
      token = StickySessions.newToken();
      responseHeaders.add(HttpHeaderNames.SET_COOKIE, sticky.setCookie(token, request.headers()));
    }
    sticky.pin(token, served);
  }

  void onResponseContent(Channel ch, HttpContent content) {
    if (ch != upstream || done || !responseStarted) {
      ReferenceCountUtil.release(content);
      return;
    }
    boolean last = content instanceof LastHttpContent;
    if (last) {
      client.writeAndFlush(content);
      finish();
      return;
    }
    client.writeAndFlush(content);
    if (!client.channel().isWritable()) {
      ch.config().setAutoRead(false);
    }
  }

  void onUpstreamClosed(Channel ch, String why) {
    if (ch != upstream || done) {
      return;
    }
    upstreamReusable = false;
    upstream = null;
    ch.attr(UpstreamHandler.EXCHANGE).set(null);
    release(ch, false);
    cancelResponseTimer();
    endLease(Outcome.FAILURE);
    if (!responseStarted) {
      retryOrFail(HttpResponseStatus.BAD_GATEWAY, why);
    } else {
      // Part of the response is out: the only honest signal left is closing the connection.
      done = true;
      owner.exchangeDone(this, false);
    }
  }

  /** The client went away (or the proxy is closing it). */
  void onClientClosed() {
    if (done) {
      return;
    }
    stop();
    upstreamReusable = false;
    closeUpstream();
    endLease(Outcome.CANCELLED);
  }

  /** Marks the exchange over: drops buffered request pieces and the response timer. */
  private void stop() {
    done = true;
    pending.forEach(ReferenceCountUtil::release);
    pending.clear();
    cancelResponseTimer();
  }

  private void startResponseTimer() {
    if (responseTimer != null || done) {
      return;
    }
    long timeout = owner.config().upstream().responseTimeout().toNanos();
    int forAttempt = attempt;
    responseTimer =
        client.executor().schedule(() -> {
          responseTimer = null;
          if (done || forAttempt != attempt || responseStarted) {
            return;
          }
          upstreamReusable = false;
          closeUpstream();
          endLease(Outcome.FAILURE);
          retryOrFail(HttpResponseStatus.GATEWAY_TIMEOUT, "no response head within upstream.responseTimeout");
        }, timeout, TimeUnit.NANOSECONDS);
  }

  private void cancelResponseTimer() {
    if (responseTimer != null) {
      responseTimer.cancel(false);
      responseTimer = null;
    }
  }

  // ---- endings -----------------------------------------------------------------------------------

  private boolean retryPossible() {
    return bodyless && requestComplete;
  }

  private void retryOrFail(HttpResponseStatus status, String why) {
    if (done) {
      return;
    }
    long backoff = retryPossible() ? retries.grant() : -1;
    if (backoff < 0) {
      fail(status, why + (retries.budgetExhausted() ? " (retry budget exhausted)" : ""));
      return;
    }
    if (lease != null) {
      context = context.excluding(lease.endpoint().id());
    }
    upstream = null;
    client.executor().schedule(this::connect, backoff, TimeUnit.NANOSECONDS);
  }

  private void fail(HttpResponseStatus status, String why) {
    fail(status, why, false);
  }

  private void fail(HttpResponseStatus status, String why, boolean closeAfter) {
    if (done) {
      return;
    }
    stop();
    if (responseStarted) {
      owner.exchangeDone(this, false);
      return;
    }
    this.status = status.code();
    owner.sendError(client, status, why, clientKeepAlive && requestComplete && !closeAfter);
    owner.exchangeDone(this, clientKeepAlive && requestComplete && !closeAfter);
  }

  private void finish() {
    done = true;
    cancelResponseTimer();
    Outcome outcome = status >= 500 ? Outcome.FAILURE : Outcome.SUCCESS;
    endLease(outcome);
    Channel up = upstream;
    upstream = null;
    if (up != null) {
      up.attr(UpstreamHandler.EXCHANGE).set(null);
      up.config().setAutoRead(true);
      release(up, upstreamReusable && requestComplete);
    }
    owner.exchangeDone(this, clientKeepAlive && requestComplete && !owner.draining());
  }

  private void endLease(Outcome outcome) {
    Lease l = lease;
    if (l != null && !l.isDone()) {
      if (outcome == Outcome.CANCELLED) {
        l.close();
      } else {
        l.complete(outcome, System.nanoTime() - l.startNanos(), status);
      }
    }
  }

  private void closeUpstream() {
    Channel up = upstream;
    upstream = null;
    if (up != null) {
      up.attr(UpstreamHandler.EXCHANGE).set(null);
      release(up, false);
    }
  }

  private void release(Channel ch, boolean reusable) {
    FixedChannelPool p = upstreamPool;
    if (!reusable) {
      ch.close();
    }
    if (p != null) {
      p.release(ch);
    } else {
      ch.close();
    }
  }

  private String describeEndpoint() {
    return lease == null ? "?" : lease.endpoint().id() + " (" + lease.endpoint().authority() + ")";
  }

  private static void stripHopByHop(HttpHeaders target, HttpHeaders source) {
    for (String connectionToken : source.getAll(HttpHeaderNames.CONNECTION)) {
      for (String name : connectionToken.split(",")) {
        target.remove(name.trim());
      }
    }
    for (String name : HOP_BY_HOP) {
      target.remove(name);
    }
  }

  private static void appendVia(HttpHeaders h, HttpVersion received) {
    String via = received.majorVersion() + "." + received.minorVersion() + " edge-balancer";
    String existing = h.get(HttpHeaderNames.VIA);
    h.set(HttpHeaderNames.VIA, existing == null ? via : existing + ", " + via);
  }

  boolean isDone() {
    return done;
  }

  @Override
  public String toString() {
    return request.method() + " " + request.uri() + " -> " + pool.name() + "/" + describeEndpoint()
        + " attempt " + attempt + (done ? " done" : "") + " " + String.valueOf(status).toLowerCase(Locale.ROOT);
  }
}
