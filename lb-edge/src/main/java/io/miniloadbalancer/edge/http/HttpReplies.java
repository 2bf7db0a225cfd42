package io.miniloadbalancer.edge.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** The proxy's own answers (errors, health, admin): one way to write them and close or keep. */
public final class HttpReplies {

  private HttpReplies() {}

  /**
   * {@code body} as JSON, not cached; closes the connection unless {@code keepAlive}.
   *
   * @param ctx the connection
   * @param status the answer's status
   * @param body rendered with {@link Json}
   * @param keepAlive whether the connection stays open after the answer
   * @param extraHeaders adds or changes headers before the answer is written
   */
  public static void json(
      ChannelHandlerContext ctx,
      HttpResponseStatus status,
      Object body,
      boolean keepAlive,
      Consumer<HttpHeaders> extraHeaders) {
    byte[] bytes = Json.write(body).getBytes(StandardCharsets.UTF_8);
    send(ctx, status, "application/json", bytes, keepAlive, extraHeaders);
  }

  /**
   * {@code bytes} with {@code contentType}, not cached; closes unless {@code keepAlive}.
   *
   * @param ctx the connection
   * @param status the answer's status
   * @param contentType the {@code Content-Type}
   * @param bytes the body
   * @param keepAlive whether the connection stays open after the answer
   * @param extraHeaders adds or changes headers before the answer is written
   */
  public static void send(
      ChannelHandlerContext ctx,
      HttpResponseStatus status,
      String contentType,
      byte[] bytes,
      boolean keepAlive,
      Consumer<HttpHeaders> extraHeaders) {
    FullHttpResponse r =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
    HttpHeaders h = r.headers();
    h.set(HttpHeaderNames.CONTENT_TYPE, contentType);
    h.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    h.set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    h.set(
        HttpHeaderNames.CONNECTION,
        keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
    extraHeaders.accept(h);
    if (keepAlive) {
      ctx.writeAndFlush(r);
    } else {
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
