package io.miniloadbalancer.edge;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.RetryExecutor;
import io.miniloadbalancer.core.RetryPolicy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.pool.FixedChannelPool;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
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
 * <p>Retries: only for idempotent requests without a body, on connect failures, connections lost
 * before the response head, response timeouts, malformed heads and 502/503/504, on another
 * endpoint, within lb-core's policy and shared budget ({@link RetryExecutor.RetryTracker}). Every
 * attempt writes a complete request (head and end), so a connection is never left mid-message.
 */
final class ProxyExchange implements ChannelFutureListener {

    /**
     * Re-sends on another pooled connection after stale ones (see onUpstreamClosed); then a new one
     * is made.
     */
    private static final int MAX_STALE_RETRIES = 3;

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
    private final boolean http10Client;
    private final boolean bodyless;
    private final boolean headRequest;
    private final boolean chunkedRequest;
    private final boolean upgradeAsked;
    private final boolean idempotent;
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
    private @Nullable String requestId;

    /**
     * Whether {@code request.headers()} now hold the upstream's headers (hop-by-hop removed,
     * forwarding headers added; see upstreamHead): read what the client sent before the first
     * attempt.
     */
    private boolean upstreamHeadersReady;

    private boolean requestComplete;
    private boolean responseStarted;

    /** A 1xx head was relayed; the decoder's empty end of it is not the response's end. */
    private boolean interim;

    /** The response goes to the client close-delimited (HTTP/1.0 client, unknown length). */
    private boolean closeDelimited;

    private boolean tunnel;
    private boolean upstreamReusable = true;
    private boolean done;
    private long bodyBytes;
    private long headLatencyNanos;
    private int status;
    private int attempt;

    /**
     * Whether the current attempt's connection came back from the pool (served a request before).
     */
    private boolean reusedConnection;

    private int staleRetries;

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
        this.http10Client = request.protocolVersion().minorVersion() == 0;
        this.chunkedRequest = HttpUtil.isTransferEncodingChunked(request);
        long length = HttpUtil.getContentLength(request, 0L);
        this.bodyless = !chunkedRequest && length == 0;
        // A request without a body is complete with its head: every attempt writes its end itself,
        // so
        // even an attempt that fails before the decoder hands on the (empty) end may be retried.
        this.requestComplete = bodyless;
        this.headRequest = request.method().equals(HttpMethod.HEAD);
        this.upgradeAsked = isWebSocketUpgrade(request) && bodyless;
        this.idempotent = RetryPolicy.isIdempotent(request.method().name());
        this.retries =
                pool.retries().track(bodyless && RetryPolicy.isIdempotent(request.method().name()));
        StickySessions sticky = pool.sticky();
        if (sticky != null) {
            this.affinityToken = sticky.token(request.headers());
            this.pinnedEndpoint = sticky.pinnedEndpoint(affinityToken);
        }
    }

    /** RFC 6455 4.1: GET with {@code Upgrade: websocket} and {@code Connection: upgrade}. */
    private static boolean isWebSocketUpgrade(HttpRequest r) {
        return r.method().equals(HttpMethod.GET)
                && r.protocolVersion().minorVersion() == 1
                && r.headers()
                        .containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                && r.headers()
                        .containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    // ---- start and (re)connect
    // ---------------------------------------------------------------------

    void start() {
        connect();
    }

    private void connect() {
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
                fail(
                        HttpResponseStatus.SERVICE_UNAVAILABLE,
                        "unserved",
                        "no endpoint available in pool '" + pool.name() + "': " + e.getMessage());
            } else {
                retries.refund();
                fail(
                        HttpResponseStatus.BAD_GATEWAY,
                        "unserved",
                        "no untried endpoint left in pool '" + pool.name() + "'");
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
                if (f.cause() instanceof java.util.concurrent.TimeoutException) {
                    // Every connection of upstream.maxConnectionsPerEndpoint is busy: the proxy's
                    // own
                    // limit, not the endpoint's failure (503, as for a full queue; never charged to
                    // it).
                    endLease(Outcome.CANCELLED);
                    fail(
                            HttpResponseStatus.SERVICE_UNAVAILABLE,
                            "pool_full",
                            "no free connection to "
                                    + describeEndpoint()
                                    + " within upstream.connectTimeout"
                                    + " (upstream.maxConnectionsPerEndpoint in use)");
                    return;
                }
                endLease(Outcome.FAILURE);
                retryOrFail(
                        HttpResponseStatus.BAD_GATEWAY,
                        "connect",
                        "connect to " + describeEndpoint() + " failed: " + f.cause().getMessage());
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
        reusedConnection = ch.attr(UpstreamHandler.USED).getAndSet(Boolean.TRUE) != null;
        ch.attr(UpstreamHandler.EXCHANGE).set(this);
        ch.config().setAutoRead(true);
        UpstreamConnections.decoder(ch).expectResponseTo(headRequest);
        ChannelFuture headWritten;
        if (bodyless) {
            // The whole request, head and end, on every attempt: a retry that wrote only the head
            // would
            // leave the connection's encoder mid-message, and the next request on it would never go
            // out.
            ch.write(upstreamHead(), ch.voidPromise());
            headWritten = ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            startResponseTimer();
        } else {
            headWritten = ch.write(upstreamHead());
            while (!pending.isEmpty()) {
                ch.write(pending.poll(), ch.voidPromise());
            }
            ch.flush();
            if (!requestComplete) {
                client.channel().config().setAutoRead(ch.isWritable());
            } else {
                startResponseTimer();
            }
        }
        // A write that fails (a pooled connection the backend reset a moment ago) ends the attempt
        // at
        // once, instead of waiting for a response that cannot come.
        headWritten.addListener(this);
    }

    /** The request head's write finished; a failure ends the attempt (see onAcquired). */
    @Override
    public void operationComplete(ChannelFuture future) {
        if (!future.isSuccess()) {
            Channel ch = future.channel();
            onUpstreamClosed(ch, "writing the request failed: " + future.cause());
        }
    }

    private HttpRequest upstreamHead() {
        HttpHeaders h = request.headers();
        if (!upstreamHeadersReady) {
            // The client's headers are rewritten in place, once, rather than copied: the copies
            // were
            // about 30% of the proxy's allocation per request. Later attempts only change Host.
            upstreamHeadersReady = true;
            String originalHost = h.get(HttpHeaderNames.HOST);
            boolean trusted = owner.trustedProxies().contains(client.channel().remoteAddress());
            // Every line: a field split over lines is one list (RFC 9110 5.3), each a hop.
            String xff = trusted ? joined(h, "x-forwarded-for") : null;
            String xfProto = trusted ? h.get("x-forwarded-proto") : null;
            String xfHost = trusted ? h.get("x-forwarded-host") : null;
            String xfPort = trusted ? h.get("x-forwarded-port") : null;
            String websocketKey = null;
            stripHopByHop(h, h);
            if (!trusted) {
                // A client's own forwarding claims would reach backends that act on them (RFC
                // 7239).
                h.remove("forwarded");
            }
            String clientIp = clientAddress();
            h.set(
                    "x-forwarded-for",
                    xff == null || xff.isBlank() ? clientIp : xff + ", " + clientIp);
            h.set("x-forwarded-proto", xfProto != null ? xfProto : "http");
            if (xfHost != null) {
                h.set("x-forwarded-host", xfHost);
            } else if (originalHost != null) {
                h.set("x-forwarded-host", originalHost);
            } else {
                h.remove("x-forwarded-host");
            }
            h.set("x-forwarded-port", xfPort != null ? xfPort : String.valueOf(localPort()));
            appendVia(h, request.protocolVersion());
            if (http10Client) {
                h.remove(
                        HttpHeaderNames
                                .EXPECT); // an HTTP/1.0 request's Expect is ignored (RFC 9110
                // 10.1.1)
            }
            if (upgradeAsked) {
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
                h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
            } else {
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            if (chunkedRequest) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
            StickySessions sticky = pool.sticky();
            if (sticky != null) {
                sticky.strip(h); // the proxy's cookie, not the application's
            }
        }
        h.set(HttpHeaderNames.HOST, lease.endpoint().authority());
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), upstreamUri, h);
    }

    private static @Nullable String joined(HttpHeaders h, String name) {
        List<String> all = h.getAll(name);
        return all.isEmpty() ? null : String.join(", ", all);
    }

    private String clientAddress() {
        if (client.channel().remoteAddress() instanceof InetSocketAddress a
                && a.getAddress() != null) {
            return a.getAddress().getHostAddress();
        }
        return "unknown";
    }

    private int localPort() {
        return client.channel().localAddress() instanceof InetSocketAddress a ? a.getPort() : 0;
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
        if (bodyBytes > maxBodyBytes) {
            ReferenceCountUtil.release(content);
            clientFault(
                    HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                    "request body exceeds server.maxBodyBytes (" + maxBodyBytes + ")");
            return;
        }
        if (last && !((LastHttpContent) content).trailingHeaders().isEmpty()) {
            // Trailer fields are never forwarded (RFC 9110 6.5.1 lets a proxy drop them): a trailer
            // could otherwise carry what the header checks refused (a second Host, say).
            ((LastHttpContent) content).trailingHeaders().clear();
        }
        Channel up = upstream;
        if (up == null) {
            pending.add(content);
            client.channel().config().setAutoRead(false);
            return;
        }
        up.writeAndFlush(content, up.voidPromise());
        if (last) {
            startResponseTimer();
        } else if (!up.isWritable()) {
            client.channel().config().setAutoRead(false);
        }
    }

    void onUpstreamWritabilityChanged(Channel ch) {
        if (ch == upstream && (!requestComplete || tunnel) && !done) {
            client.channel().config().setAutoRead(ch.isWritable());
        }
    }

    void onClientWritabilityChanged() {
        Channel up = upstream;
        if (up != null && (responseStarted || tunnel) && !done) {
            up.config().setAutoRead(client.channel().isWritable());
        }
    }

    // ---- response
    // ----------------------------------------------------------------------------------

    void onResponseHead(Channel ch, HttpResponse response) {
        if (ch != upstream || done) {
            return;
        }
        String problem = MessageRules.checkResponse(response, upgradeAsked);
        if (problem != null) {
            upstreamFault(ch, "malformed", problem);
            return;
        }
        int code = response.status().code();
        if (code < 200 && code != 101) {
            relayInterim(response);
            return;
        }
        cancelResponseTimer();
        status = code;
        headLatencyNanos = lease == null ? 0 : System.nanoTime() - lease.startNanos();
        if ((status == 502 || status == 503 || status == 504)
                && !responseStarted
                && retryPossible()) {
            // Drop this answer and its connection; try another endpoint.
            upstreamReusable = false;
            closeUpstream();
            endLease(Outcome.FAILURE);
            // A backend's own 5xx is an answer, not a protocol error: nothing to log.
            retryOrFail(
                    response.status(),
                    null,
                    "backend " + describeEndpoint() + " answered " + status);
            return;
        }
        // The backend's headers are rewritten in place rather than copied (see upstreamHead), so
        // the
        // framing is read before the hop-by-hop headers that carry it are stripped.
        HttpHeaders h = response.headers();
        boolean switching = code == 101;
        if (switching
                && !h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            upstreamFault(ch, "malformed", "101 to a protocol other than the websocket asked for");
            return;
        }
        responseStarted = true;
        boolean hasBody = !(headRequest || status == 204 || status == 304 || switching);
        boolean lengthKnown =
                HttpUtil.isContentLengthSet(response)
                        && !HttpUtil.isTransferEncodingChunked(response);
        if (!HttpUtil.isKeepAlive(response) || MessageRules.framingContradictsStatus(response)) {
            upstreamReusable = false;
        }
        stripHopByHop(h, h);
        HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.status(), h);
        // An answer before the request body ended (a 401 or 413 to an upload) closes the connection
        // afterwards: say so now (RFC 9112 9.6) rather than promise keep-alive.
        boolean keep = clientKeepAlive && !owner.draining() && requestComplete;
        if (hasBody && !lengthKnown) {
            if (http10Client) {
                // HTTP/1.0 has no chunked coding: the body ends where the connection does.
                closeDelimited = true;
                keep = false;
            } else {
                // Close-delimited or chunked from the backend: chunked to the client, connection
                // kept.
                HttpUtil.setTransferEncodingChunked(out, true);
            }
        }
        appendVia(h, response.protocolVersion());
        pinSession(h);
        if (switching) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
            h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        } else {
            h.set(
                    HttpHeaderNames.CONNECTION,
                    keep ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        }
        client.write(out, client.voidPromise());
        if (switching) {
            startTunnel(ch);
        }
    }

    /** A 1xx (not 101): relayed to an HTTP/1.1 client (RFC 9110 15.2), then the final response. */
    private void relayInterim(HttpResponse response) {
        interim = true;
        if (MessageRules.framingContradictsStatus(response)) {
            upstreamReusable = false;
        }
        if (http10Client) {
            return; // a 1xx must not go to an HTTP/1.0 client
        }
        HttpHeaders h = response.headers();
        stripHopByHop(h, h);
        DefaultFullHttpResponse out =
                new DefaultFullHttpResponse(
                        HttpVersion.HTTP_1_1,
                        response.status(),
                        Unpooled.EMPTY_BUFFER,
                        h,
                        io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
        client.writeAndFlush(out, client.voidPromise());
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
            responseHeaders.add(
                    HttpHeaderNames.SET_COOKIE, sticky.setCookie(token, request.headers()));
        }
        sticky.pin(token, served);
    }

    void onResponseContent(Channel ch, HttpContent content) {
        if (ch != upstream || done || tunnel) {
            // (A tunnel's handshake ends with an empty content from the decoder: not the tunnel's
            // end.)
            ReferenceCountUtil.release(content);
            return;
        }
        if (interim) {
            // The (empty) end of a 1xx, or garbage where the final head should be.
            boolean failed = content.decoderResult().isFailure() || content.content().isReadable();
            ReferenceCountUtil.release(content);
            if (failed) {
                upstreamFault(ch, "malformed", "malformed after an interim response");
            } else if (content instanceof LastHttpContent) {
                interim = false;
            }
            return;
        }
        if (!responseStarted) {
            ReferenceCountUtil.release(content);
            return;
        }
        if (content.decoderResult().isFailure()) {
            String why = MessageRules.describe(content.decoderResult().cause());
            ReferenceCountUtil.release(content);
            upstreamFault(ch, "truncated", "malformed response body: " + why);
            return;
        }
        boolean last = content instanceof LastHttpContent;
        if (last) {
            // Response trailers are dropped as request trailers are: a trailer could carry what a
            // proxy
            // must not merge into a message (Set-Cookie, say; RFC 9110 6.5.1).
            HttpHeaders trailers = ((LastHttpContent) content).trailingHeaders();
            if (!trailers.isEmpty()) { // (the shared empty end is read-only)
                trailers.clear();
            }
            if (UpstreamConnections.decoder(ch).hasLeftoverBytes()) {
                // More bytes than the response framed (a body on HEAD/204/304, or garbage): what
                // was framed
                // goes to the client; the connection does not go back to the pool.
                upstreamReusable = false;
                owner.protocolLog()
                        .record(
                                ProtocolLog.Side.UPSTREAM,
                                "extra_bytes",
                                requestId(),
                                ch.remoteAddress(),
                                "backend "
                                        + describeEndpoint()
                                        + " sent bytes after the end of its response; connection"
                                        + " closed");
            }
            client.writeAndFlush(content, client.voidPromise());
            finish();
            return;
        }
        client.writeAndFlush(content, client.voidPromise());
        if (!client.channel().isWritable()) {
            ch.config().setAutoRead(false);
        }
    }

    /** The backend's connection ended (closed, reset, idle, or a write failed). */
    void onUpstreamClosed(Channel ch, String why) {
        if (ch != upstream || done) {
            return;
        }
        if (tunnel) {
            endTunnel();
            return;
        }
        upstreamReusable = false;
        upstream = null;
        ch.attr(UpstreamHandler.EXCHANGE).set(null);
        release(ch, false);
        cancelResponseTimer();
        if (!responseStarted
                && !interim
                && reusedConnection
                && bodyless
                && idempotent
                && staleRetries < MAX_STALE_RETRIES) {
            // A pooled keep-alive connection the backend had closed (or reset) while it sat idle:
            // the
            // race every HTTP/1.1 client has. Nothing was answered, so the request goes again to
            // the
            // same endpoint on another connection, not charged to the endpoint or the retry budget
            // (as OkHttp, nginx and Envoy do for a stale pooled connection).
            staleRetries++;
            int sameAttempt = attempt;
            upstreamPool.acquire().addListener((Future<Channel> f) -> onAcquired(f, sameAttempt));
            return;
        }
        endLease(Outcome.FAILURE);
        if (!responseStarted) {
            retryOrFail(
                    HttpResponseStatus.BAD_GATEWAY,
                    "reset",
                    "backend " + describeEndpoint() + ": " + why);
        } else {
            // Part of the response is out: the only honest signal left is closing the connection.
            owner.protocolLog()
                    .record(
                            ProtocolLog.Side.UPSTREAM,
                            "truncated",
                            requestId(),
                            ch.remoteAddress(),
                            "backend " + describeEndpoint() + " ended the response early: " + why);
            abortClient();
        }
    }

    /**
     * The backend broke HTTP: its connection closes (never back to the pool), the endpoint is
     * charged a failure, and the client gets a 502 (or, with the response under way, a closed
     * connection, so the truncation is visible).
     */
    private void upstreamFault(Channel ch, String kind, String what) {
        String why = "backend " + describeEndpoint() + ": " + what;
        upstreamReusable = false;
        closeUpstream();
        cancelResponseTimer();
        endLease(Outcome.FAILURE);
        owner.protocolLog()
                .record(ProtocolLog.Side.UPSTREAM, kind, requestId(), ch.remoteAddress(), what);
        if (!responseStarted) {
            retryOrFail(HttpResponseStatus.BAD_GATEWAY, null, why);
        } else {
            abortClient();
        }
    }

    /** The client went away (or the proxy is closing it). */
    void onClientClosed() {
        if (done) {
            return;
        }
        if (tunnel) {
            endTunnel();
            return;
        }
        stop();
        upstreamReusable = false;
        closeUpstream();
        endLease(Outcome.CANCELLED);
    }

    /**
     * The client broke the protocol or a client deadline passed mid-exchange: the attempt is
     * cancelled (not the endpoint's fault), and the client gets {@code status} and a close, or just
     * the close once the response has begun.
     */
    void clientFault(HttpResponseStatus status, String why) {
        if (done) {
            return;
        }
        if (tunnel) {
            endTunnel(); // an idle tunnel: closed, as any idle connection
            return;
        }
        owner.protocolLog()
                .record(
                        ProtocolLog.Side.CLIENT,
                        status.code() == 408 ? "timeout" : "request",
                        requestId(),
                        client.channel().remoteAddress(),
                        status.code() + " " + why);
        upstreamReusable = false;
        closeUpstream();
        endLease(Outcome.CANCELLED);
        if (responseStarted) {
            stop();
            owner.exchangeDone(this, false);
            return;
        }
        stop();
        this.status = status.code();
        owner.sendError(client, status, why, requestId(), false);
        owner.exchangeDone(this, false);
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
                client.executor()
                        .schedule(
                                () -> {
                                    responseTimer = null;
                                    if (done || forAttempt != attempt || responseStarted) {
                                        return;
                                    }
                                    upstreamReusable = false;
                                    closeUpstream();
                                    endLease(Outcome.FAILURE);
                                    retryOrFail(
                                            HttpResponseStatus.GATEWAY_TIMEOUT,
                                            "timeout",
                                            "no response head from "
                                                    + describeEndpoint()
                                                    + " within upstream.responseTimeout");
                                },
                                timeout,
                                TimeUnit.NANOSECONDS);
    }

    private void cancelResponseTimer() {
        if (responseTimer != null) {
            responseTimer.cancel(false);
            responseTimer = null;
        }
    }

    // ---- websocket tunnel
    // --------------------------------------------------------------------------

    /**
     * After the 101 is written: both connections leave HTTP. The client's codec and deadlines go
     * (the idle timeout stays: a silent tunnel is closed after server.idleTimeout); the upstream's
     * codec goes, and any bytes its decoder held (frames sent right after the 101) are handed on.
     */
    private void startTunnel(Channel up) {
        tunnel = true;
        interim = false;
        client.flush();
        ChannelPipeline cp = client.pipeline();
        for (String name : new String[] {"timeouts", "continue", "codec"}) {
            if (cp.get(name) != null) {
                cp.remove(name);
            }
        }
        ChannelPipeline up2 = up.pipeline();
        if (up2.get("codec-out") != null) {
            up2.remove("codec-out");
        }
        if (up2.get("codec") != null) {
            up2.remove("codec"); // hands its buffered bytes on to the UpstreamHandler
        }
    }

    /** Bytes from the client of a tunnel. Takes ownership. */
    void onClientBytes(ByteBuf bytes) {
        Channel up = upstream;
        if (!tunnel || done || up == null) {
            ReferenceCountUtil.release(bytes);
            return;
        }
        up.writeAndFlush(bytes, up.voidPromise());
        if (!up.isWritable()) {
            client.channel().config().setAutoRead(false);
        }
    }

    /** Bytes from the backend of a tunnel. Takes ownership. */
    void onUpstreamBytes(Channel ch, ByteBuf bytes) {
        if (!tunnel || done || ch != upstream) {
            ReferenceCountUtil.release(bytes);
            return;
        }
        client.writeAndFlush(bytes, client.voidPromise());
        if (!client.channel().isWritable()) {
            ch.config().setAutoRead(false);
        }
    }

    boolean isTunnel() {
        return tunnel;
    }

    /**
     * Either side of a tunnel closed: the other closes, the lease ends with the handshake's time.
     */
    private void endTunnel() {
        if (done) {
            return;
        }
        done = true;
        Channel up = upstream;
        upstream = null;
        if (up != null) {
            up.attr(UpstreamHandler.EXCHANGE).set(null);
            release(up, false);
        }
        Lease l = lease;
        if (l != null && !l.isDone()) {
            l.complete(Outcome.SUCCESS, headLatencyNanos);
        }
        owner.exchangeDone(this, false);
    }

    // ---- endings
    // -----------------------------------------------------------------------------------

    private boolean retryPossible() {
        return bodyless && requestComplete;
    }

    /**
     * Another endpoint when the policy, the budget and the request allow; else the client's answer.
     * {@code kind} counts and logs the failure as the backend's (null: the caller did, or there is
     * nothing to log).
     */
    private void retryOrFail(HttpResponseStatus status, @Nullable String kind, String why) {
        if (done) {
            return;
        }
        if (kind != null) {
            owner.protocolLog()
                    .record(
                            ProtocolLog.Side.UPSTREAM,
                            kind,
                            requestId(),
                            client.channel().remoteAddress(),
                            why);
        }
        long backoff = retryPossible() ? retries.grant() : -1;
        if (backoff < 0) {
            fail(
                    status,
                    null,
                    why + (retries.budgetExhausted() ? " (retry budget exhausted)" : ""));
            return;
        }
        if (lease != null) {
            context = context.excluding(lease.endpoint().id());
        }
        upstream = null;
        if (backoff == 0) {
            connect();
        } else {
            client.executor().schedule(this::connect, backoff, TimeUnit.NANOSECONDS);
        }
    }

    /** The request cannot be served: the client gets {@code status}, the log gets {@code why}. */
    private void fail(HttpResponseStatus status, @Nullable String kind, String why) {
        if (done) {
            return;
        }
        if (kind != null) {
            owner.protocolLog()
                    .record(
                            ProtocolLog.Side.UPSTREAM,
                            kind,
                            requestId(),
                            client.channel().remoteAddress(),
                            why);
        }
        stop();
        if (responseStarted) {
            owner.exchangeDone(this, false);
            return;
        }
        this.status = status.code();
        boolean keep = clientKeepAlive && requestComplete;
        owner.sendError(client, status, why, requestId(), keep);
        owner.exchangeDone(this, keep);
    }

    /** Ends the client connection mid-response: no terminating chunk, so the cut is visible. */
    private void abortClient() {
        stop();
        owner.exchangeDone(this, false);
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
        owner.exchangeDone(
                this, clientKeepAlive && requestComplete && !closeDelimited && !owner.draining());
    }

    private void endLease(Outcome outcome) {
        Lease l = lease;
        if (l != null && !l.isDone()) {
            if (outcome == Outcome.CANCELLED) {
                l.close();
            } else {
                l.complete(outcome, System.nanoTime() - l.startNanos());
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

    /** This exchange's id for logs and the client's error body; made when first needed. */
    private String requestId() {
        if (requestId == null) {
            requestId = owner.protocolLog().newRequestId();
        }
        return requestId;
    }

    private String describeEndpoint() {
        return lease == null
                ? "?"
                : lease.endpoint().id() + " (" + lease.endpoint().authority() + ")";
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
