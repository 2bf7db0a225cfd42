package io.miniloadbalancer.edge;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * {@code /healthz} (liveness: the process serves) and {@code /readyz} (readiness: false while
 * starting or draining), on both ports so an ALB and ECS can reach them on the traffic port.
 */
final class HealthEndpoints {

  private HealthEndpoints() {}

  static void answer(ChannelHandlerContext ctx, EdgeProxy edge, String path, boolean keepAlive) {
    HttpResponseStatus status;
    Map<String, Object> body;
    if (path.equals("/healthz")) {
      status = HttpResponseStatus.OK;
      body = Map.of("status", "ok");
    } else {
      String state = edge.state();
      status = state.equals("ready") ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE;
      body = Map.of("status", state);
    }
    byte[] bytes = Json.write(body).getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    boolean keep = keepAlive && !edge.draining();
    r.headers().set(HttpHeaderNames.CONNECTION, keep ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
    if (keep) {
      ctx.writeAndFlush(r);
    } else {
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
