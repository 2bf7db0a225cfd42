package io.miniloadbalancer.benchmarks;

import com.sun.net.httpserver.HttpServer;
import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.okhttp.LoadBalancingInterceptor;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A GET through the {@link LoadBalancingInterceptor} against a plain OkHttp GET to the same
 * loopback server, in one run: what the interceptor adds to a real call (URL rewrite, pick, lease,
 * body wrapper, retry executor). The server is the JDK's HTTP server (TCP_NODELAY on) answering 2
 * bytes.
 *
 * <p>Run: {@code java -jar lb-benchmarks/target/benchmarks.jar InterceptorBenchmark -t 1 -prof gc}
 * (3 forks by default: single forks differ by several microseconds between runs).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(3) // one fork's result moves by +-5% between runs on this machine
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class InterceptorBenchmark {

  private HttpServer server;
  private LoadBalancer balancer;
  private OkHttpClient plain;
  private OkHttpClient balanced;
  private Request direct;
  private Request logical;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    // Without TCP_NODELAY the server's separate head and body writes meet the client's delayed
    // ACK and every call stalls ~40 ms on loopback (measured: 44 ms per call either way).
    System.setProperty("sun.net.httpserver.nodelay", "true");
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
    server.createContext(
        "/",
        exchange -> {
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.setExecutor(Executors.newFixedThreadPool(2));
    server.start();
    int port = server.getAddress().getPort();
    balancer =
        LoadBalancer.builder()
            .name("bench")
            .endpoints(Endpoint.of("local", "127.0.0.1", port))
            .build();
    plain = new OkHttpClient();
    balanced =
        plain
            .newBuilder()
            .addInterceptor(LoadBalancingInterceptor.builder().route("svc", balancer).build())
            .build();
    direct = new Request.Builder().url("http://127.0.0.1:" + port + "/items?id=7").build();
    logical = new Request.Builder().url("http://svc/items?id=7").build();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    balancer.close();
    server.stop(0);
    plain.dispatcher().executorService().shutdown();
    plain.connectionPool().evictAll();
  }

  /** A plain OkHttp GET to the server. */
  @Benchmark
  public String plainCall() throws IOException {
    try (Response r = plain.newCall(direct).execute()) {
      return r.body().string();
    }
  }

  /** The same GET to the logical host, through the interceptor. */
  @Benchmark
  public String balancedCall() throws IOException {
    try (Response r = balanced.newCall(logical).execute()) {
      return r.body().string();
    }
  }
}
