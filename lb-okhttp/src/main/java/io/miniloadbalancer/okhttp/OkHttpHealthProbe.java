package io.miniloadbalancer.okhttp;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.ProbeResult;
import io.miniloadbalancer.core.spi.HealthProbe;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.IntPredicate;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * A {@link HealthProbe} that checks {@code GET <scheme>://host:port<path>} with an {@link
 * OkHttpClient}, so probes share the client's TLS, proxy, timeouts and connection pool. Pass the
 * base client, not one that carries a {@link LoadBalancingInterceptor} (probes go to one endpoint,
 * by address). Asynchronous: no thread waits for a probe.
 */
public final class OkHttpHealthProbe implements HealthProbe {

  private final OkHttpClient client;
  private final String scheme;
  private final String path;
  private final IntPredicate expectedStatus;

  private OkHttpHealthProbe(
      OkHttpClient client, String scheme, String path, IntPredicate expectedStatus) {
    this.client = client;
    this.scheme = scheme;
    this.path = path;
    this.expectedStatus = expectedStatus;
  }

  /**
   * Probes {@code http://host:port<path>}, passing on 200 to 399 (HAProxy's default).
   *
   * @param client the application's client (its timeouts, TLS and connection pool apply)
   * @param path the path to GET, starting with {@code /}
   * @return the probe
   */
  public static OkHttpHealthProbe http(OkHttpClient client, String path) {
    return of(client, "http", path, status -> status >= 200 && status < 400);
  }

  /**
   * Probes {@code <scheme>://host:port<path>}, passing when {@code expectedStatus} accepts the
   * status; any other status fails the probe like a refused connection.
   *
   * @param client the application's client (its timeouts, TLS and connection pool apply)
   * @param scheme {@code http} or {@code https}
   * @param path the path to GET, starting with {@code /}
   * @param expectedStatus which status codes pass
   * @return the probe
   * @throws IllegalArgumentException for a scheme other than http or https, or a path not starting
   *     with '/'
   */
  public static OkHttpHealthProbe of(
      OkHttpClient client, String scheme, String path, IntPredicate expectedStatus) {
    requireNonNull(client, "client");
    requireNonNull(expectedStatus, "expectedStatus");
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      throw new IllegalArgumentException("scheme must be http or https, was '" + scheme + "'");
    }
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("path must start with '/', was '" + path + "'");
    }
    return new OkHttpHealthProbe(client, scheme, path, expectedStatus);
  }

  @Override
  public CompletionStage<ProbeResult> check(Endpoint endpoint) {
    HttpUrl url;
    try {
      url = HttpUrl.get(scheme + "://" + endpoint.authority() + path);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(
          ProbeResult.fail("bad probe URL: " + e.getMessage()));
    }
    CompletableFuture<ProbeResult> result = new CompletableFuture<>();
    client
        .newCall(new Request.Builder().url(url).get().build())
        .enqueue(
            new Callback() {
              @Override
              public void onFailure(Call call, IOException e) {
                result.complete(ProbeResult.fail("GET " + path + " failed: " + e));
              }

              @Override
              public void onResponse(Call call, Response response) {
                try (response) {
                  int status = response.code();
                  result.complete(
                      expectedStatus.test(status)
                          ? ProbeResult.pass("HTTP " + status)
                          : ProbeResult.fail("HTTP " + status + " (unexpected status)"));
                }
              }
            });
    return result;
  }
}
