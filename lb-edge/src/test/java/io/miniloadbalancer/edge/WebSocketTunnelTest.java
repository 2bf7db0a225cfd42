package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.miniloadbalancer.core.DrainResult;
import io.miniloadbalancer.core.EndpointState;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * WebSocket through the proxy (RFC 6455 over RFC 9110 7.8 Upgrade): real Netty WebSocket servers as
 * backends, the JDK's WebSocket client in front. The handshake is balanced like any request, then
 * bytes pass both ways; the tunnel holds its lease, so a drain of its endpoint waits for it.
 */
class WebSocketTunnelTest {

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final List<Channel> backends = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private EdgeProxy edge;

  @BeforeEach
  void start() throws Exception {
    int a = startBackend("a");
    int b = startBackend("b");
    String yaml =
        "server: {port: 0}\n"
            + "admin: {port: 0}\n"
            + "pools:\n"
            + "  ws:\n"
            + "    strategy: round-robin\n"
            + "    endpoints:\n"
            + "      - {id: a, host: 127.0.0.1, port: "
            + a
            + "}\n"
            + "      - {id: b, host: 127.0.0.1, port: "
            + b
            + "}\n";
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "ws.yaml", Map.of()), EnvironmentInfo.none());
  }

  @AfterEach
  void stop() {
    if (edge != null) {
      edge.close();
    }
    backends.forEach(Channel::close);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  @Test
  void textAndLargeBinaryMessagesEchoThroughTheTunnel() throws Exception {
    Client c = connect("/proxy/ws/echo");
    String who = c.ask("hello");
    assertThat(who).matches("[ab]:hello");
    for (int i = 0; i < 50; i++) {
      assertThat(c.ask("m" + i)).isEqualTo(who.charAt(0) + ":m" + i);
    }
    // 1 MiB both ways: more than any socket buffer, so back-pressure is exercised on both
    // sides.
    byte[] big = new byte[1 << 20];
    new Random(7).nextBytes(big);
    c.ws.sendBinary(ByteBuffer.wrap(big), true).get(10, TimeUnit.SECONDS);
    byte[] echoed = c.binaries.poll(10, TimeUnit.SECONDS);
    assertThat(echoed).isEqualTo(big);
    c.ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> edge.inFlight() == 0);
  }

  @Test
  void aDrainWaitsForTheOpenTunnelWhileNewHandshakesGoElsewhere() throws Exception {
    Client c = connect("/proxy/ws/echo");
    String id = c.ask("x").substring(0, 1);
    String other = id.equals("a") ? "b" : "a";
    LoadBalancer lb = edge.balancer("ws");
    assertThat(lb.snapshot().endpoint(id).orElseThrow().inFlight()).isEqualTo(1);

    CompletableFuture<DrainResult> drain = lb.drain(id, Duration.ofSeconds(30));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> lb.snapshot().endpoint(id).orElseThrow().state() == EndpointState.DRAINING);
    // The tunnel goes on; the drain waits for it.
    for (int i = 0; i < 5; i++) {
      assertThat(c.ask("still" + i)).isEqualTo(id + ":still" + i);
    }
    assertThat(drain).isNotDone();
    // New handshakes go to the endpoint still in rotation.
    for (int i = 0; i < 4; i++) {
      Client n = connect("/proxy/ws/echo");
      assertThat(n.ask("new")).isEqualTo(other + ":new");
      n.ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
    }
    assertThat(drain).isNotDone();

    c.ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    DrainResult result = drain.get(10, TimeUnit.SECONDS);
    assertThat(result.completed()).isTrue();
    assertThat(result.stillInFlight()).isZero();
  }

  @Test
  void aBackendThatRefusesTheUpgradeIsRelayedAsAPlainResponse() {
    assertThatThrownBy(() -> connect("/proxy/ws/refuse"))
        .isInstanceOf(WebSocketHandshakeException.class)
        .satisfies(
            e ->
                assertThat(((WebSocketHandshakeException) e).getResponse().statusCode())
                    .isEqualTo(403));
    // And the refusal is an ordinary exchange: the proxy is clean afterwards.
    await().atMost(Duration.ofSeconds(5)).until(() -> edge.inFlight() == 0);
  }

  // ---- helpers
  // -----------------------------------------------------------------------------------

  private static final class Client implements WebSocket.Listener {
    final LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
    final LinkedBlockingQueue<byte[]> binaries = new LinkedBlockingQueue<>();
    private final StringBuilder text = new StringBuilder();
    private final java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();
    WebSocket ws;

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        texts.add(text.toString());
        text.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
      byte[] b = new byte[data.remaining()];
      data.get(b);
      binary.writeBytes(b);
      if (last) {
        binaries.add(binary.toByteArray());
        binary.reset();
      }
      webSocket.request(1);
      return null;
    }

    String ask(String message) throws Exception {
      ws.sendText(message, true).get(5, TimeUnit.SECONDS);
      String answer = texts.poll(5, TimeUnit.SECONDS);
      assertThat(answer).as("echo of " + message).isNotNull();
      return answer;
    }
  }

  private Client connect(String path) throws Exception {
    Client c = new Client();
    try {
      c.ws =
          http.newWebSocketBuilder()
              .connectTimeout(Duration.ofSeconds(5))
              .buildAsync(URI.create("ws://127.0.0.1:" + edge.proxyPort() + path), c)
              .get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | CompletionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
    return c;
  }

  /** A real WebSocket server at /echo (answers "<id>:<text>", binary as is); /refuse is a 403. */
  private int startBackend(String id) throws InterruptedException {
    Channel ch =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel c) {
                    c.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(1 << 16))
                        .addLast(
                            new WebSocketServerProtocolHandler(
                                WebSocketServerProtocolConfig.newBuilder()
                                    .websocketPath("/echo")
                                    .maxFramePayloadLength(4 << 20)
                                    .build()))
                        .addLast(
                            new io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator(
                                4 << 20))
                        .addLast(
                            new SimpleChannelInboundHandler<Object>() {
                              @Override
                              protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof TextWebSocketFrame t) {
                                  ctx.writeAndFlush(new TextWebSocketFrame(id + ":" + t.text()));
                                } else if (msg instanceof BinaryWebSocketFrame b) {
                                  ctx.writeAndFlush(new BinaryWebSocketFrame(b.content().retain()));
                                } else if (msg instanceof FullHttpRequest) {
                                  DefaultFullHttpResponse r =
                                      new DefaultFullHttpResponse(
                                          HttpVersion.HTTP_1_1,
                                          HttpResponseStatus.FORBIDDEN,
                                          Unpooled.copiedBuffer(
                                              "no upgrade" + " here",
                                              java.nio.charset.StandardCharsets.UTF_8));
                                  r.headers()
                                      .setInt(
                                          HttpHeaderNames.CONTENT_LENGTH,
                                          r.content().readableBytes());
                                  ctx.writeAndFlush(r);
                                } else if (msg instanceof WebSocketFrame) {
                                  // control frames are handled by
                                  // the protocol handler
                                }
                              }
                            });
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .sync()
            .channel();
    backends.add(ch);
    return ((InetSocketAddress) ch.localAddress()).getPort();
  }
}
