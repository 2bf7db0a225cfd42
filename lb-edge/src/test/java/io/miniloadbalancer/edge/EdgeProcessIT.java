package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar ({@code target/edge-proxy.jar}) run as its own process, as ECS runs it: a
 * SIGTERM with requests in flight, and 50 MB each way through a proxy whose heap and direct memory
 * are far smaller than the body.
 */
class EdgeProcessIT {

  private static final Pattern READY =
      Pattern.compile("edge proxy ready: proxy [^ ]+:(\\d+), admin [^ ]+:(\\d+)");
  private static final long FIFTY_MB = 50L * 1024 * 1024;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final List<String> output = new CopyOnWriteArrayList<>();
  private DemoBackends backends;
  private Process proxy;
  private int proxyPort;
  private Thread reader;

  @TempDir Path dir;

  @BeforeEach
  void startBackends() throws IOException {
    backends = new DemoBackends(2);
  }

  @AfterEach
  void stop() {
    if (proxy != null && proxy.isAlive()) {
      proxy.destroyForcibly();
    }
    backends.close();
  }

  /** Starts the jar with the given JVM memory flags and waits for its ready line. */
  private void startProxy(String... jvmFlags) throws Exception {
    Path config = dir.resolve("edge.yaml");
    Files.writeString(config, backends.config(0, 0));
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(jvmFlags));
    command.addAll(
        List.of(
            "-jar",
            Path.of("target", "edge-proxy.jar").toAbsolutePath().toString(),
            "--config",
            config.toString()));
    proxy = new ProcessBuilder(command).redirectErrorStream(true).start();
    CompletableFuture<Integer> ready = new CompletableFuture<>();
    reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(proxy.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  output.add(line);
                  Matcher m = READY.matcher(line);
                  if (m.find()) {
                    ready.complete(Integer.parseInt(m.group(1)));
                  }
                }
              } catch (IOException e) {
                ready.completeExceptionally(e);
              }
              ready.completeExceptionally(
                  new IllegalStateException("the proxy exited before it was ready: " + output));
            },
            "proxy-output");
    reader.setDaemon(true);
    reader.start();
    proxyPort = ready.get(30, TimeUnit.SECONDS);
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxyPort + path))
        .timeout(Duration.ofSeconds(60));
  }

  @Test
  void sigtermLetsRequestsInFlightFinishThenExitsZero() throws Exception {
    startProxy();
    List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      slow.add(
          http.sendAsync(
              request("/proxy/demo/slow/" + i).build(), HttpResponse.BodyHandlers.ofString()));
    }
    await()
        .atMost(10, TimeUnit.SECONDS)
        .pollInterval(Duration.ofMillis(10))
        .until(() -> backends.active() == 6);
    long t0 = System.nanoTime();
    proxy.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its output
    for (CompletableFuture<HttpResponse<String>> f : slow) {
      HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("GET /slow/");
    }
    assertThat(proxy.waitFor(15, TimeUnit.SECONDS)).as("exited").isTrue();
    reader.join(5_000); // the last lines, read after the exit
    assertThat(proxy.exitValue()).as("exit code after a clean drain; output: %s", output).isZero();
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0))
        .as("no waiting beyond the drain")
        .isLessThan(5_000);
    assertThat(output)
        .anyMatch(l -> l.contains("drained in") && l.contains("0 exchanges still in flight"));
  }

  @Test
  void fiftyMegabytesEachWayStreamThroughASmallHeap() throws Exception {
    startProxy("-Xmx48m", "-XX:MaxDirectMemorySize=24m");
    HttpResponse<String> up =
        http.send(
            request("/proxy/demo/upload")
                .POST(HttpRequest.BodyPublishers.ofInputStream(pattern(FIFTY_MB)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(up.statusCode()).isEqualTo(200);
    assertThat(up.body()).contains("received " + FIFTY_MB + " bytes");

    HttpResponse<InputStream> down =
        http.send(
            request("/proxy/demo/bytes/" + FIFTY_MB).build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertThat(down.statusCode()).isEqualTo(200);
    long received = 0;
    try (InputStream in = down.body()) {
      byte[] buf = new byte[65_536];
      for (int n; (n = in.read(buf)) > 0; ) {
        received += n;
      }
    }
    assertThat(received).isEqualTo(FIFTY_MB);
    assertThat(proxy.isAlive()).as("no OutOfMemoryError: %s", output).isTrue();
    assertThat(output).noneMatch(l -> l.contains("OutOfMemoryError"));
  }

  /** {@code n} bytes generated on the fly, so the test JVM does not hold them either. */
  private static Supplier<InputStream> pattern(long n) {
    return () ->
        new InputStream() {
          private long left = n;

          @Override
          public int read() {
            return left-- > 0 ? 'x' : -1;
          }

          @Override
          public int read(byte[] b, int off, int len) {
            if (left <= 0) {
              return -1;
            }
            int k = (int) Math.min(len, left);
            java.util.Arrays.fill(b, off, off + k, (byte) 'x');
            left -= k;
            return k;
          }
        };
  }
}
