package io.miniloadbalancer.spring;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.okhttp.LoadBalancingInterceptor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import okhttp3.OkHttpClient;

/**
 * Routes an {@link OkHttpClient}'s requests for {@code http://<pool>/...} through the pools, with
 * lb-okhttp's own {@link LoadBalancingInterceptor} (one per pool, with that pool's retry policy and
 * hash-key header). Applied per client:
 *
 * <pre>{@code
 * OkHttpClient client = new OkHttpClient.Builder().apply(edgeBalancerOkHttp).build();  // Kotlin
 * OkHttpClient.Builder b = new OkHttpClient.Builder(); edgeBalancerOkHttp.accept(b);  // Java
 * }</pre>
 */
public final class EdgeBalancerOkHttpCustomizer implements Consumer<OkHttpClient.Builder> {

  private final List<LoadBalancingInterceptor> interceptors = new ArrayList<>();

  /**
   * A customizer over the application's pools.
   *
   * @param pools the pools
   */
  public EdgeBalancerOkHttpCustomizer(EdgeBalancerPools pools) {
    requireNonNull(pools, "pools");
    for (String name : pools.names()) {
      EdgeBalancerPools.Pool pool = pools.pool(name);
      LoadBalancingInterceptor.Builder b =
          LoadBalancingInterceptor.builder()
              .route(name, pool.balancer())
              .retryPolicy(pool.retries().policy());
      if (pool.hashKeyHeader() != null) {
        b.hashKeyHeader(pool.hashKeyHeader());
      }
      interceptors.add(b.build());
    }
  }

  /**
   * Adds the pools' interceptors as application interceptors.
   *
   * @param builder the client's builder
   */
  @Override
  public void accept(OkHttpClient.Builder builder) {
    interceptors.forEach(builder::addInterceptor);
  }
}
