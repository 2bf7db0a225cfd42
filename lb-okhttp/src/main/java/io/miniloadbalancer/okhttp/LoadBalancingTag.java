package io.miniloadbalancer.okhttp;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * Per-request load-balancing options, attached as an OkHttp request tag:
 *
 * <pre>{@code
 * Request request = new Request.Builder()
 *     .url("http://orders/api/items")
 *     .post(body)
 *     .tag(LoadBalancingTag.class, LoadBalancingTag.hashKey(userId).withIdempotent(true))
 *     .build();
 * }</pre>
 *
 * @param hashKey the key for {@code ring-hash} and {@code maglev}, or null (then the configured
 *     header, if any, is used)
 * @param idempotent true to allow retries of a request whose method is not idempotent (for example
 *     a POST carrying an idempotency key)
 */
public record LoadBalancingTag(@Nullable String hashKey, boolean idempotent) {

  /**
   * A tag with a hash key.
   *
   * @param key the hash key for {@code ring-hash} and {@code maglev}
   * @return a tag with a hash key
   */
  public static LoadBalancingTag hashKey(String key) {
    return new LoadBalancingTag(requireNonNull(key, "key"), false);
  }

  /**
   * A tag that opts a non-idempotent method into retries.
   *
   * @return a tag that opts a non-idempotent method into retries
   */
  public static LoadBalancingTag retryable() {
    return new LoadBalancingTag(null, true);
  }

  /**
   * A copy with the idempotent opt-in set.
   *
   * @param value whether the request may be retried although its method is not idempotent
   * @return a copy with the idempotent opt-in set
   */
  public LoadBalancingTag withIdempotent(boolean value) {
    return new LoadBalancingTag(hashKey, value);
  }
}
