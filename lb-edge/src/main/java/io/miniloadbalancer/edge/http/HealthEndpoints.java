package io.miniloadbalancer.edge.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;

/**
 * {@code /healthz} (liveness: the process serves) and {@code /readyz} (readiness: false while
 * starting or draining), on both ports so an ALB and ECS can reach them on the traffic port.
 */
public final class HealthEndpoints {

  private HealthEndpoints() {}

  /**
   * Whether {@code path} is one of the two health paths.
   *
   * @param path the request's decoded path
   * @return true for {@code /healthz} and {@code /readyz}
   */
  public static boolean isHealthPath(String path) {
    return path.equals("/healthz") || path.equals("/readyz");
  }

  /**
   * Answers a health path.
   *
   * @param ctx the connection
   * @param readiness where the process is in its life
   * @param path {@code /healthz} or {@code /readyz}
   * @param keepAlive whether the request allows the connection to stay open
   */
  public static void answer(
      ChannelHandlerContext ctx, Readiness readiness, String path, boolean keepAlive) {
    HttpResponseStatus status;
    Map<String, Object> body;
    if (path.equals("/healthz")) {
      status = HttpResponseStatus.OK;
      body = Map.of("status", "ok");
    } else {
      String state = readiness.state();
      status =
          state.equals("ready") ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE;
      body = Map.of("status", state);
    }
    HttpReplies.json(ctx, status, body, keepAlive && !readiness.draining(), h -> {});
  }
}
