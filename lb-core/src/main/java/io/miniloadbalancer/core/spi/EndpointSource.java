package io.miniloadbalancer.core.spi;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.SourceHealth;
import io.miniloadbalancer.core.SourceSnapshot;
import java.util.List;
import java.util.Map;

/**
 * Where a balancer's endpoints come from: a static list, Consul, an admin plane.
 *
 * <p>A source pushes the <em>whole</em> current set each time it changes; the balancer computes the
 * difference (added, changed, removed by id) on its control context. A source may push from any
 * thread. Pushing an invalid set (for example two endpoints with one id) is rejected by the
 * balancer, which logs the reason and keeps routing on the last good set.
 */
public interface EndpointSource extends AutoCloseable {

  /**
   * Starts delivering endpoint sets to {@code listener}. Called once, by the balancer, when it is
   * built. A source that already knows a set should deliver it before returning, so the balancer is
   * routable as soon as {@code build()} returns.
   *
   * @param listener where to deliver endpoint sets; its methods may be called from any thread
   */
  void start(Listener listener);

  /** Stops delivering; the balancer calls this when it is closed. Must not throw. */
  @Override
  default void close() {}

  /**
   * How the source is doing (staleness, current problem), for snapshots, admin planes and metrics.
   * Cheap and thread-safe. The default describes a source that is never stale.
   *
   * @return how the source is doing (staleness, current problem), for snapshots, admin planes and
   *     metrics
   */
  default SourceSnapshot snapshot() {
    return SourceSnapshot.alwaysFresh(getClass().getSimpleName());
  }

  /** Receives endpoint sets. Thread-safe. */
  @FunctionalInterface
  interface Listener {

    /**
     * The complete current set of endpoints with what the source says of their health (copied by
     * the receiver). An endpoint missing from {@code health} counts as {@link
     * SourceHealth#passing()}; entries for ids not in {@code endpoints} are ignored.
     *
     * @param endpoints every endpoint the source knows now
     * @param health the source's view of each endpoint's health, by endpoint id
     */
    void onEndpoints(List<Endpoint> endpoints, Map<String, SourceHealth> health);

    /**
     * The complete current set of endpoints, all passing as far as the source knows.
     *
     * @param endpoints every endpoint the source knows now
     */
    default void onEndpoints(List<Endpoint> endpoints) {
      onEndpoints(endpoints, Map.of());
    }
  }
}
