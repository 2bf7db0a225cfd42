package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.spi.HealthProbe;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

/** The built-in {@link HealthProbe}s. */
public final class HealthProbes {

  private HealthProbes() {}

  /**
   * Passes when a TCP connection to the endpoint's address opens within {@code timeout}. No thread
   * waits: the connect is asynchronous.
   *
   * @param timeout how long a probe may take before it fails
   * @return the probe
   */
  public static HealthProbe tcp(Duration timeout) {
    long timeoutMillis = positive(timeout, "timeout").toMillis();
    return endpoint -> {
      CompletableFuture<ProbeResult> result = new CompletableFuture<>();
      AsynchronousSocketChannel channel;
      try {
        channel = AsynchronousSocketChannel.open();
      } catch (IOException e) {
        return CompletableFuture.completedFuture(ProbeResult.fail("socket: " + e.getMessage()));
      }
      channel.connect(
          new InetSocketAddress(endpoint.host(), endpoint.port()),
          null,
          new CompletionHandler<Void, Void>() {
            @Override
            public void completed(Void v, Void attachment) {
              result.complete(ProbeResult.pass("TCP connect ok"));
            }

            @Override
            public void failed(Throwable e, Void attachment) {
              result.complete(ProbeResult.fail("TCP connect failed: " + describe(e)));
            }
          });
      return result
          .completeOnTimeout(
              ProbeResult.fail("TCP connect timed out after " + timeoutMillis + " ms"),
              timeoutMillis,
              TimeUnit.MILLISECONDS)
          .whenComplete((r, e) -> closeQuietly(channel));
    };
  }

  /**
   * Passes when {@code GET http://host:port<path>} answers within {@code timeout} with a status
   * between 200 and 399 (HAProxy's {@code http-check} default).
   *
   * @param path the path to GET, starting with {@code /}
   * @param timeout how long a probe may take before it fails
   * @return the probe
   */
  public static HealthProbe http(String path, Duration timeout) {
    return http(path, status -> status >= 200 && status < 400, timeout);
  }

  /**
   * Passes when {@code GET http://host:port<path>} answers within {@code timeout} with a status
   * {@code expectedStatus} accepts. Any other status fails the probe and goes through the fall
   * threshold like a refused connection (no bypass, unlike envoy#7171). Uses one shared JDK {@link
   * HttpClient}.
   *
   * @param path the path to GET, starting with {@code /}
   * @param expectedStatus which status codes pass
   * @param timeout how long a probe may take before it fails
   * @return the probe
   */
  public static HealthProbe http(String path, IntPredicate expectedStatus, Duration timeout) {
    requireNonNull(path, "path");
    requireNonNull(expectedStatus, "expectedStatus");
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("path must start with '/', was '" + path + "'");
    }
    Duration t = positive(timeout, "timeout");
    HttpClient client =
        HttpClient.newBuilder()
            .connectTimeout(t)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    return endpoint -> {
      URI uri;
      try {
        uri = URI.create("http://" + endpoint.authority() + path);
      } catch (IllegalArgumentException e) {
        return CompletableFuture.completedFuture(
            ProbeResult.fail("bad probe URI: " + e.getMessage()));
      }
      HttpRequest request = HttpRequest.newBuilder(uri).timeout(t).GET().build();
      CompletionStage<ProbeResult> stage =
          client
              .sendAsync(request, HttpResponse.BodyHandlers.discarding())
              .handle(
                  (response, error) -> {
                    if (error != null) {
                      return ProbeResult.fail("GET " + path + " failed: " + describe(error));
                    }
                    int status = response.statusCode();
                    return expectedStatus.test(status)
                        ? ProbeResult.pass("HTTP " + status)
                        : ProbeResult.fail("HTTP " + status + " (unexpected status)");
                  });
      return stage;
    };
  }

  private static String describe(Throwable e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getMessage() == null) {
      cause = cause.getCause();
    }
    String message = cause.getMessage();
    return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  private static void closeQuietly(AsynchronousSocketChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // Nothing to do: the probe's verdict is already decided.
    }
  }

  private static Duration positive(Duration d, String name) {
    requireNonNull(d, name);
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be positive, was " + d);
    }
    return d;
  }
}
