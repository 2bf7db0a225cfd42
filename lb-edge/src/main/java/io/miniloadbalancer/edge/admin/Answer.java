package io.miniloadbalancer.edge.admin;

import io.miniloadbalancer.core.StrategySwitchRejectedException;
import io.miniloadbalancer.edge.http.HttpReplies;
import io.miniloadbalancer.edge.http.Json;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An admin-plane answer: status, JSON body, and extra headers ({@code Allow}, {@code Retry-After}),
 * and the one way to write it, with the security headers every admin answer carries.
 */
record Answer(HttpResponseStatus status, Object body, Map<String, String> headers) {

  /** The admin plane's request log: one logger, so operators filter its lines in one place. */
  private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);

  /**
   * A body sent as it is rather than as JSON: a profile, a dump.
   *
   * @param contentType its media type
   * @param fileName the name a client saves it under ({@code Content-Disposition})
   * @param bytes the content
   */
  record File(String contentType, String fileName, byte[] bytes) {}

  static Answer ok(Object body) {
    return new Answer(HttpResponseStatus.OK, body, Map.of());
  }

  static Answer error(HttpResponseStatus status, String message) {
    return new Answer(status, Map.of("status", status.code(), "error", message), Map.of());
  }

  /** 401: no valid token or session (the client gets a {@code WWW-Authenticate} too). */
  static Answer unauthorized() {
    return error(HttpResponseStatus.UNAUTHORIZED, "missing or wrong bearer token or session");
  }

  static Answer methodNotAllowed(String allow) {
    return new Answer(
        HttpResponseStatus.METHOD_NOT_ALLOWED,
        Map.of("status", 405, "error", "method not allowed here; use " + allow),
        Map.of(HttpHeaderNames.ALLOW.toString(), allow));
  }

  static Answer throttled(AdminAuth auth, InetAddress client) {
    long seconds = Math.max(1, auth.lockedFor(client));
    return new Answer(
        HttpResponseStatus.TOO_MANY_REQUESTS,
        Map.of(
            "status",
            429,
            "error",
            "too many wrong tokens from this address; retry in " + seconds + " s"),
        Map.of(HttpHeaderNames.RETRY_AFTER.toString(), Long.toString(seconds)));
  }

  static Answer failure(String what, Throwable e) {
    Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (c instanceof StrategySwitchRejectedException) {
      return Answer.error(HttpResponseStatus.CONFLICT, c.getMessage());
    }
    if (c instanceof IllegalArgumentException) {
      // The balancer's own input errors (an endpoint that left between the check and the
      // action).
      return Answer.error(HttpResponseStatus.BAD_REQUEST, c.getMessage());
    }
    return internalError(what, c);
  }

  /** A bug: the client gets a request id, the log gets the detail under it. */
  static Answer internalError(String what, Throwable e) {
    String id = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
    LOG.error("admin request {} failed (request id {})", what, id, e);
    return new Answer(
        HttpResponseStatus.INTERNAL_SERVER_ERROR,
        Map.of("status", 500, "error", "internal error", "requestId", id),
        Map.of());
  }

  /** Writes {@code a}; a body that cannot be rendered (a bug) becomes the generic 500. */
  static void write(ChannelHandlerContext ctx, Answer a, boolean keepAlive) {
    if (a.body() instanceof File f) {
      HttpReplies.send(
          ctx,
          a.status(),
          f.contentType(),
          f.bytes(),
          keepAlive,
          h -> {
            securityHeaders(h);
            h.set(
                HttpHeaderNames.CONTENT_DISPOSITION,
                "attachment; filename=\"" + f.fileName() + "\"");
          });
      return;
    }
    Answer out = a;
    byte[] body;
    try {
      body = Json.write(a.body()).getBytes(StandardCharsets.UTF_8);
    } catch (RuntimeException e) {
      out = internalError("rendering a " + a.status().code() + " answer", e);
      body = Json.write(out.body()).getBytes(StandardCharsets.UTF_8);
    }
    Answer sent = out;
    HttpReplies.send(
        ctx,
        sent.status(),
        "application/json",
        body,
        keepAlive,
        h -> {
          securityHeaders(h);
          sent.headers().forEach(h::set);
          if (sent.status() == HttpResponseStatus.UNAUTHORIZED) {
            h.set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"edge-admin\"");
          }
        });
  }

  /** Headers on every admin-plane answer: no sniffing, no framing, no inline code, no referrer. */
  static void securityHeaders(HttpHeaders h) {
    h.set("X-Content-Type-Options", "nosniff");
    h.set(HttpHeaderNames.CONTENT_SECURITY_POLICY, DashboardAssets.CONTENT_SECURITY_POLICY);
    h.set(HttpHeaderNames.X_FRAME_OPTIONS, "DENY");
    h.set("Referrer-Policy", "no-referrer");
  }

  static boolean isRead(HttpMethod method) {
    return method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
  }
}
