package io.miniloadbalancer.core.spi;

import io.miniloadbalancer.core.Endpoint;
import java.util.List;

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
   */
  void start(Listener listener);

  /** Stops delivering; the balancer calls this when it is closed. Must not throw. */
  @Override
  default void close() {}

  /** Receives endpoint sets. Thread-safe. */
  @FunctionalInterface
  interface Listener {

    /** The complete current set of endpoints (copied by the receiver). */
    void onEndpoints(List<Endpoint> endpoints);
  }
}
