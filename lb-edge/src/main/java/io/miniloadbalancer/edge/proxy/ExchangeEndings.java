package io.miniloadbalancer.edge.proxy;

import io.miniloadbalancer.core.HttpOutcomes;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.Outcome;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link ProxyExchange} ends: finished, retried on another endpoint, failed with the proxy's
 * own answer, or cut (once a response head is out, a failure closes the client connection so the
 * truncation shows). Every ending settles the lease (a failure charged to the endpoint, or
 * cancelled when it was not the endpoint's doing) and returns the upstream connection to its pool
 * only when it is reusable. Runs on the client connection's event loop and reads and writes its
 * exchange's state.
 */
final class ExchangeEndings {

  private final ProxyExchange ex;
  private boolean recorded;

  ExchangeEndings(ProxyExchange ex) {
    this.ex = ex;
  }

  /** The backend's connection ended (closed, reset, idle, or a write failed). */
  void onUpstreamClosed(Channel ch, String why) {
    if (ch != ex.upstream || ex.done) {
      return;
    }
    if (ex.tunnel != null) {
      endTunnel();
      return;
    }
    ex.upstreamReusable = false;
    ex.upstream = null;
    ch.attr(UpstreamHandler.EXCHANGE).set(null);
    UpstreamPool.giveBack(ch, false);
    ex.relay.cancelTimer();
    if (!ex.responseStarted
        && !ex.interim
        && ex.reusedConnection
        && ex.bodyless
        && ex.idempotent
        && ex.staleRetries < ProxyExchange.MAX_STALE_RETRIES) {
      // A pooled keep-alive connection the backend had closed (or reset) while it sat idle:
      // the
      // race every HTTP/1.1 client has. Nothing was answered, so the request goes again to
      // the
      // same endpoint on another connection, not charged to the endpoint or the retry budget
      // (as OkHttp, nginx and Envoy do for a stale pooled connection).
      ex.staleRetries++;
      int sameAttempt = ex.attempt;
      ex.upstreamPool.acquire(ex, sameAttempt);
      return;
    }
    endLease(Outcome.FAILURE);
    if (!ex.responseStarted) {
      retryOrFail(
          HttpResponseStatus.BAD_GATEWAY, "reset", "backend " + ex.describeEndpoint() + ": " + why);
    } else {
      // Part of the response is out: the only honest signal left is closing the connection.
      ex.parts
          .protocolLog()
          .record(
              ProtocolLog.Side.UPSTREAM,
              "truncated",
              ex.requestId(),
              ch.remoteAddress(),
              "backend " + ex.describeEndpoint() + " ended the response early: " + why);
      abortClient();
    }
  }

  /**
   * The backend broke HTTP: its connection closes (never back to the pool), the endpoint is charged
   * a failure, and the client gets a 502 (or, with the response under way, a closed connection, so
   * the truncation is visible).
   */
  void upstreamFault(Channel ch, String kind, String what) {
    String why = "backend " + ex.describeEndpoint() + ": " + what;
    ex.upstreamReusable = false;
    closeUpstream();
    ex.relay.cancelTimer();
    endLease(Outcome.FAILURE);
    ex.parts
        .protocolLog()
        .record(ProtocolLog.Side.UPSTREAM, kind, ex.requestId(), ch.remoteAddress(), what);
    if (!ex.responseStarted) {
      retryOrFail(HttpResponseStatus.BAD_GATEWAY, null, kind, why);
    } else {
      abortClient();
    }
  }

  /** The client went away (or the proxy is closing it). */
  void onClientClosed() {
    if (ex.done) {
      return;
    }
    if (ex.tunnel != null) {
      endTunnel();
      return;
    }
    ex.stop();
    ex.upstreamReusable = false;
    closeUpstream();
    endLease(Outcome.CANCELLED);
    record(EdgeMeters.Ending.CLIENT_CLOSED);
  }

  /**
   * The client broke the protocol or a client deadline passed mid-exchange: the attempt is
   * cancelled (not the endpoint's fault), and the client gets {@code status} and a close, or just
   * the close once the response has begun.
   */
  void clientFault(HttpResponseStatus status, String why) {
    if (ex.done) {
      return;
    }
    if (ex.tunnel != null) {
      endTunnel(); // an idle tunnel: closed, as any idle connection
      return;
    }
    ex.parts
        .protocolLog()
        .record(
            ProtocolLog.Side.CLIENT,
            status.code() == 408 ? "timeout" : "request",
            ex.requestId(),
            ex.client.channel().remoteAddress(),
            status.code() + " " + why);
    ex.upstreamReusable = false;
    closeUpstream();
    endLease(Outcome.CANCELLED);
    if (ex.responseStarted) {
      ex.stop();
      ended(false, EdgeMeters.Ending.CUT);
      return;
    }
    ex.stop();
    ex.status = status.code();
    ex.owner.sendError(ex.client, status, why, ex.requestId(), false);
    ended(false, EdgeMeters.Ending.CLIENT_ERROR);
  }

  /** Either side of a tunnel closed: the other closes, the lease ends with the handshake's time. */
  void endTunnel() {
    if (ex.done) {
      return;
    }
    ex.done = true;
    Channel up = ex.upstream;
    ex.upstream = null;
    if (up != null) {
      up.attr(UpstreamHandler.EXCHANGE).set(null);
      UpstreamPool.giveBack(up, false);
    }
    Lease l = ex.lease;
    if (l != null && !l.isDone()) {
      l.complete(Outcome.SUCCESS, ex.headLatencyNanos);
    }
    ended(false, EdgeMeters.Ending.ANSWERED);
  }

  boolean retryPossible() {
    return ex.bodyless && ex.requestComplete;
  }

  /**
   * Another endpoint when the policy, the budget and the request allow; else the client's answer.
   * {@code kind} counts and logs the failure as the backend's (null: the caller did, or there is
   * nothing to log).
   */
  void retryOrFail(HttpResponseStatus status, @Nullable String kind, String why) {
    retryOrFail(status, kind, kind != null ? kind : "status_" + status.code(), why);
  }

  /** As above; {@code reason} tags the retry meter (a word from a fixed set). */
  void retryOrFail(HttpResponseStatus status, @Nullable String kind, String reason, String why) {
    if (ex.done) {
      return;
    }
    logUpstream(kind, why);
    long backoff = retryPossible() ? ex.retries.grant() : -1;
    if (backoff < 0) {
      fail(status, null, why + (ex.retries.budgetExhausted() ? " (retry budget exhausted)" : ""));
      return;
    }
    ex.pool.meters().retry(reason);
    retryIn(backoff);
  }

  /** A granted retry: on another endpoint than the ones tried, after {@code backoff} nanos. */
  void retryIn(long backoff) {
    if (ex.lease != null) {
      ex.context = ex.context.excluding(ex.lease.endpoint().id());
    }
    ex.upstream = null;
    if (backoff == 0) {
      ex.connect();
    } else {
      ex.client.executor().schedule(ex::connect, backoff, TimeUnit.NANOSECONDS);
    }
  }

  /** The request cannot be served: the client gets {@code status}, the log gets {@code why}. */
  void fail(HttpResponseStatus status, @Nullable String kind, String why) {
    if (ex.done) {
      return;
    }
    logUpstream(kind, why);
    ex.stop();
    if (ex.responseStarted) {
      ended(false, EdgeMeters.Ending.CUT);
      return;
    }
    ex.status = status.code();
    boolean keep = ex.clientKeepAlive && ex.requestComplete;
    ex.owner.sendError(ex.client, status, why, ex.requestId(), keep);
    ended(keep, EdgeMeters.Ending.PROXY_ERROR);
  }

  /** Ends the client connection mid-response: no terminating chunk, so the cut is visible. */
  void abortClient() {
    ex.stop();
    ended(false, EdgeMeters.Ending.CUT);
  }

  void finish() {
    ex.done = true;
    ex.relay.cancelTimer();
    // lb-core's table: 5xx a failure, 429 and 503 + Retry-After an overload (a pause, no
    // ejection), the rest a success.
    endLease(HttpOutcomes.outcome(ex.status, ex.retryAfter != null));
    Channel up = ex.upstream;
    ex.upstream = null;
    if (up != null) {
      up.attr(UpstreamHandler.EXCHANGE).set(null);
      up.config().setAutoRead(true);
      UpstreamPool.giveBack(up, ex.upstreamReusable && ex.requestComplete);
    }
    ended(
        ex.clientKeepAlive
            && ex.requestComplete
            && !ex.closeDelimited
            && !ex.parts.readiness().draining(),
        EdgeMeters.Ending.ANSWERED);
  }

  /** The exchange is over: counted, access-logged, then handed back to its connection. */
  private void ended(boolean keepAlive, EdgeMeters.Ending ending) {
    record(ending);
    ex.owner.exchangeDone(ex, keepAlive);
  }

  /**
   * Meters and the access log, once per exchange: every ending above passes here (an exchange the
   * client left is recorded from onClientClosed, without exchangeDone).
   */
  private void record(EdgeMeters.Ending ending) {
    if (recorded) {
      return;
    }
    recorded = true;
    long total = System.nanoTime() - ex.startNanos;
    ex.pool.meters().ended(ex.status, ending, total, ex.bodyBytes, ex.responseBytes);
    ex.parts.accessLog().log(ex, ending, total);
  }

  void endLease(Outcome outcome) {
    Lease l = ex.lease;
    if (l != null && !l.isDone()) {
      if (outcome == Outcome.CANCELLED) {
        l.close();
      } else if (outcome == Outcome.OVERLOADED) {
        // The pause asked for (zero: lb-core's 1 s), capped by the balancer's maxPenalty.
        l.overloaded(ex.retryAfter != null ? ex.retryAfter : Duration.ZERO);
      } else {
        l.complete(outcome, System.nanoTime() - l.startNanos());
      }
    }
  }

  void closeUpstream() {
    Channel up = ex.upstream;
    ex.upstream = null;
    if (up != null) {
      up.attr(UpstreamHandler.EXCHANGE).set(null);
      UpstreamPool.giveBack(up, false);
    }
  }

  /** Counts and logs a failure as the backend's; null {@code kind}: nothing to log. */
  private void logUpstream(@Nullable String kind, String why) {
    if (kind != null) {
      ex.parts
          .protocolLog()
          .record(
              ProtocolLog.Side.UPSTREAM,
              kind,
              ex.requestId(),
              ex.client.channel().remoteAddress(),
              why);
    }
  }
}
