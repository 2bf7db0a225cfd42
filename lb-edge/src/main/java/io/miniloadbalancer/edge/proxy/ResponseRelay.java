package io.miniloadbalancer.edge.proxy;

import io.miniloadbalancer.core.HttpOutcomes;
import io.miniloadbalancer.core.Outcome;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * The response stage of a {@link ProxyExchange}: every response head is checked before a byte of it
 * is relayed; interim responses (1xx other than 101) go to HTTP/1.1 clients, then the final one; an
 * answer lb-core's {@link HttpOutcomes#isRetryable} names (every 5xx, 429) may be retried on
 * another endpoint before anything was sent; a backend's 101 turns the exchange into a {@link
 * WebSocketTunnel}; the body streams with back-pressure, its trailers dropped, and bytes beyond its
 * framing retire the connection. Runs on the client connection's event loop and reads and writes
 * its exchange's state.
 */
final class ResponseRelay {

  private final ProxyExchange ex;

  /** The upstream connection whose response deadline this exchange set, while it is set. */
  private @Nullable Channel deadlineOn;

  ResponseRelay(ProxyExchange ex) {
    this.ex = ex;
  }

  /** A response head from the exchange's upstream connection. */
  void onResponseHead(Channel ch, HttpResponse response) {
    if (ch != ex.upstream || ex.done) {
      return;
    }
    String problem = MessageRules.checkResponse(response, ex.upgradeAsked);
    if (problem != null) {
      ex.endings.upstreamFault(ch, "malformed", problem);
      return;
    }
    int code = response.status().code();
    if (code < 200 && code != 101) {
      relayInterim(response);
      return;
    }
    cancelTimer();
    ex.status = code;
    ex.headLatencyNanos = ex.lease == null ? 0 : System.nanoTime() - ex.lease.startNanos();
    ex.retryAfter =
        HttpOutcomes.retryAfter(response.headers().get(HttpOutcomes.RETRY_AFTER), Instant.now());
    if (HttpOutcomes.isRetryable(ex.status) && !ex.responseStarted && ex.endings.retryPossible()) {
      long backoff = ex.retries.grant();
      if (backoff >= 0) {
        // Drop this answer and its connection; try another endpoint (never the same one: the
        // retry excludes it, so a 429's Retry-After is honoured there too). A backend's own 5xx
        // is an answer, not a protocol error: nothing to log.
        ex.upstreamReusable = false;
        ex.endings.closeUpstream();
        ex.endings.endLease(HttpOutcomes.outcome(ex.status, ex.retryAfter != null));
        ex.pool.meters().retry("status_" + ex.status);
        ex.endings.retryIn(backoff);
        return;
      }
      // No retry left (policy or budget): the backend's own answer goes to the client, its body
      // and Retry-After included, as nginx passes on the last upstream's answer.
    }
    // The backend's headers are rewritten in place rather than copied (see upstreamHead), so
    // the
    // framing is read before the hop-by-hop headers that carry it are stripped.
    HttpHeaders h = response.headers();
    boolean switching = code == 101;
    if (switching && !h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
      ex.endings.upstreamFault(
          ch, "malformed", "101 to a protocol other than the websocket asked for");
      return;
    }
    ex.responseStarted = true;
    boolean hasBody = !(ex.headRequest || ex.status == 204 || ex.status == 304 || switching);
    boolean lengthKnown =
        HttpUtil.isContentLengthSet(response) && !HttpUtil.isTransferEncodingChunked(response);
    if (!HttpUtil.isKeepAlive(response) || MessageRules.framingContradictsStatus(response)) {
      ex.upstreamReusable = false;
    }
    ForwardingHeaders.stripHopByHop(h);
    HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, response.status(), h);
    // An answer before the request body ended (a 401 or 413 to an upload) closes the connection
    // afterwards: say so now (RFC 9112 9.6) rather than promise keep-alive.
    boolean keep = ex.clientKeepAlive && !ex.parts.readiness().draining() && ex.requestComplete;
    if (hasBody && !lengthKnown) {
      if (ex.http10Client) {
        // HTTP/1.0 has no chunked coding: the body ends where the connection does.
        ex.closeDelimited = true;
        keep = false;
      } else {
        // Close-delimited or chunked from the backend: chunked to the client, connection
        // kept.
        HttpUtil.setTransferEncodingChunked(out, true);
      }
    }
    ForwardingHeaders.appendVia(h, response.protocolVersion());
    pinSession(h);
    if (switching) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
      h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
    } else {
      h.set(
          HttpHeaderNames.CONNECTION, keep ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
    }
    ex.client.write(out, ex.client.voidPromise());
    if (switching) {
      WebSocketTunnel t = new WebSocketTunnel(ex.client, ch);
      ex.tunnel = t;
      ex.interim = false;
      t.open();
    }
  }

  /** A 1xx (not 101): relayed to an HTTP/1.1 client (RFC 9110 15.2), then the final response. */
  private void relayInterim(HttpResponse response) {
    ex.interim = true;
    if (MessageRules.framingContradictsStatus(response)) {
      ex.upstreamReusable = false;
    }
    if (ex.http10Client) {
      return; // a 1xx must not go to an HTTP/1.0 client
    }
    HttpHeaders h = response.headers();
    ForwardingHeaders.stripHopByHop(h);
    DefaultFullHttpResponse out =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            response.status(),
            Unpooled.EMPTY_BUFFER,
            h,
            EmptyHttpHeaders.INSTANCE);
    ex.client.writeAndFlush(out, ex.client.voidPromise());
  }

  /** Pins the session to the endpoint that answered; a client without a token gets one. */
  private void pinSession(HttpHeaders responseHeaders) {
    StickySessions sticky = ex.pool.sticky();
    if (sticky == null || ex.lease == null) {
      return;
    }
    String served = ex.lease.endpoint().id();
    if (served.equals(ex.pinnedEndpoint) && !sticky.needsRefresh(ex.affinityToken)) {
      return;
    }
    String setCookie = sticky.repin(ex.affinityToken, served, ex.request.headers());
    if (setCookie != null) {
      responseHeaders.add(HttpHeaderNames.SET_COOKIE, setCookie);
    }
  }

  /** A piece of the response body. Takes ownership of {@code content}. */
  void onResponseContent(Channel ch, HttpContent content) {
    if (ch != ex.upstream || ex.done || ex.tunnel != null) {
      // (A tunnel's handshake ends with an empty content from the decoder: not the tunnel's
      // end.)
      ReferenceCountUtil.release(content);
      return;
    }
    if (ex.interim) {
      // The (empty) end of a 1xx, or garbage where the final head should be.
      boolean failed = content.decoderResult().isFailure() || content.content().isReadable();
      ReferenceCountUtil.release(content);
      if (failed) {
        ex.endings.upstreamFault(ch, "malformed", "malformed after an interim response");
      } else if (content instanceof LastHttpContent) {
        ex.interim = false;
      }
      return;
    }
    if (!ex.responseStarted) {
      ReferenceCountUtil.release(content);
      return;
    }
    if (content.decoderResult().isFailure()) {
      String why = MessageRules.describe(content.decoderResult().cause());
      ReferenceCountUtil.release(content);
      ex.endings.upstreamFault(ch, "truncated", "malformed response body: " + why);
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
        ex.upstreamReusable = false;
        ex.parts
            .protocolLog()
            .record(
                ProtocolLog.Side.UPSTREAM,
                "extra_bytes",
                ex.requestId(),
                ch.remoteAddress(),
                "backend "
                    + ex.describeEndpoint()
                    + " sent bytes after the end of its response; connection"
                    + " closed");
      }
      ex.responseBytes += content.content().readableBytes();
      ex.client.writeAndFlush(content, ex.client.voidPromise());
      ex.endings.finish();
      return;
    }
    ex.responseBytes += content.content().readableBytes();
    ex.client.writeAndFlush(content, ex.client.voidPromise());
    if (!ex.client.channel().isWritable()) {
      ch.config().setAutoRead(false);
    }
  }

  /**
   * Starts the wait for the response head once the request is out: past the pool's {@code
   * requestTimeout} (default {@code upstream.responseTimeout}) the attempt fails as a 504, or is
   * retried elsewhere. The deadline lives on the upstream connection ({@link UpstreamHandler}),
   * whose one timer serves request after request; the pool's key only sets its length.
   */
  void startTimer() {
    Channel up = ex.upstream;
    if (deadlineOn != null || ex.done || up == null) {
      return;
    }
    deadlineOn = up;
    UpstreamHandler.of(up).expectResponseBy(System.nanoTime() + ex.pool.requestTimeoutNanos());
  }

  /** The deadline set by startTimer passed on {@code ch} with no response head. */
  void onResponseTimeout(Channel ch) {
    if (ex.done || ch != ex.upstream || ex.responseStarted) {
      return;
    }
    deadlineOn = null;
    ex.upstreamReusable = false;
    ex.endings.closeUpstream();
    ex.endings.endLease(Outcome.FAILURE);
    ex.endings.retryOrFail(
        HttpResponseStatus.GATEWAY_TIMEOUT,
        "timeout",
        "no response head from "
            + ex.describeEndpoint()
            + " within the pool's requestTimeout ("
            + Duration.ofNanos(ex.pool.requestTimeoutNanos()).toMillis()
            + " ms)");
  }

  /** The head came, or the attempt ended otherwise. */
  void cancelTimer() {
    Channel ch = deadlineOn;
    if (ch != null) {
      deadlineOn = null;
      UpstreamHandler.of(ch).responseNoLongerExpected();
    }
  }
}
