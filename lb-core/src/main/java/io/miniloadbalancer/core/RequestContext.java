package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.internal.strategy.Hashing;
import org.jspecify.annotations.Nullable;

/**
 * What a strategy may know about a request when it picks an endpoint: for now, an optional hash key
 * for {@code ring-hash} and {@code maglev}.
 *
 * <p>Immutable and thread-safe; the key's 64-bit hash is computed once, here, so a context built
 * once and reused costs nothing per pick. Strategies that do not hash ignore the key. A hash
 * strategy given a context without a key does not fail: it picks as weighted random would (see
 * {@link LoadBalancer}).
 *
 * <pre>{@code
 * try (Lease lease = balancer.acquire(RequestContext.ofKey(userId))) { ... }
 * }</pre>
 */
public final class RequestContext {

  private static final String[] NO_EXCLUSIONS = new String[0];
  private static final RequestContext NONE = new RequestContext(null, 0L, false, NO_EXCLUSIONS);

  private final @Nullable String key;
  private final long keyHash;
  private final boolean hasKey;
  private final String[] excluded;

  private RequestContext(@Nullable String key, long keyHash, boolean hasKey, String[] excluded) {
    this.key = key;
    this.keyHash = keyHash;
    this.hasKey = hasKey;
    this.excluded = excluded;
  }

  /**
   * A context with no hash key. The same instance every time.
   *
   * @return a context with no hash key
   */
  public static RequestContext none() {
    return NONE;
  }

  /**
   * A context whose hash key is {@code key}, hashed with the same 64-bit function the rings use, so
   * every process that runs this library maps a key to the same endpoint.
   *
   * @param key the request key, for example a user or session id
   * @return a context whose hash key is {@code key}, hashed with the same 64-bit function the rings
   *     use, so every process that runs this library maps a key to the same endpoint
   */
  public static RequestContext ofKey(CharSequence key) {
    requireNonNull(key, "key");
    String k = key.toString();
    return new RequestContext(k, Hashing.hash64(k, 0), true, NO_EXCLUSIONS);
  }

  /**
   * A context whose key is already a well-mixed 64-bit hash (for example of a client address).
   *
   * @param keyHash the 64-bit hash
   * @return a context whose key is already a well-mixed 64-bit hash (for example of a client
   *     address)
   */
  public static RequestContext ofKeyHash(long keyHash) {
    return new RequestContext(null, keyHash, true, NO_EXCLUSIONS);
  }

  /**
   * A copy that must not be placed on the endpoint {@code endpointId}: what a retry uses so each
   * attempt goes to an endpoint not yet tried. The key is kept; a hash strategy then offers the
   * key's next candidate.
   *
   * @param endpointId the endpoint to avoid
   * @return a copy that must not be placed on the endpoint {@code endpointId}: what a retry uses so
   *     each attempt goes to an endpoint not yet tried
   */
  public RequestContext excluding(String endpointId) {
    String[] more = java.util.Arrays.copyOf(excluded, excluded.length + 1);
    more[excluded.length] = java.util.Objects.requireNonNull(endpointId, "endpointId");
    return new RequestContext(key, keyHash, hasKey, more);
  }

  /**
   * Whether this context excludes the endpoint {@code endpointId}.
   *
   * @param endpointId the endpoint to avoid
   * @return whether this context excludes the endpoint {@code endpointId}
   */
  public boolean excludes(String endpointId) {
    for (String id : excluded) {
      if (id.equals(endpointId)) {
        return true;
      }
    }
    return false;
  }

  /**
   * How many endpoints this context excludes.
   *
   * @return how many endpoints this context excludes
   */
  public int exclusionCount() {
    return excluded.length;
  }

  /**
   * Whether this context carries a hash key.
   *
   * @return whether this context carries a hash key
   */
  public boolean hasKey() {
    return hasKey;
  }

  /**
   * The key's 64-bit hash; meaningless when {@link #hasKey()} is false.
   *
   * @return the key's 64-bit hash; meaningless when {@link #hasKey()} is false
   */
  public long keyHash() {
    return keyHash;
  }

  /**
   * The key as given to {@link #ofKey}, or null (no key, or built from a hash).
   *
   * @return the key as given to {@link #ofKey}, or null (no key, or built from a hash)
   */
  public @Nullable String key() {
    return key;
  }

  @Override
  public String toString() {
    if (!hasKey) {
      return "RequestContext[no key]";
    }
    return key != null
        ? "RequestContext[key=" + key + "]"
        : "RequestContext[keyHash=" + Long.toHexString(keyHash) + "]";
  }
}
