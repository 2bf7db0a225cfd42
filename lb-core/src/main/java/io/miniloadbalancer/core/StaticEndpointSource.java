package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.spi.EndpointSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An endpoint set held in memory and changed by calls: the source behind {@link
 * LoadBalancerBuilder#endpoints} and what an admin plane or a test uses to add, update and remove
 * endpoints by id.
 *
 * <p>Thread-safe. Every change pushes the whole new set to the balancer, which applies it on its
 * control context; an endpoint removed while requests are in flight drains first.
 */
public final class StaticEndpointSource implements EndpointSource {

  private final List<Endpoint> endpoints = new ArrayList<>();
  private @Nullable Listener listener;

  /**
   * A source holding {@code initial}.
   *
   * @param initial the first endpoint set
   * @throws IllegalArgumentException when two endpoints share an id
   */
  public StaticEndpointSource(Collection<Endpoint> initial) {
    for (Endpoint e : initial) {
      requireNonNull(e, "endpoint");
      if (indexOf(e.id()) >= 0) {
        throw new IllegalArgumentException("duplicate endpoint id '" + e.id() + "'");
      }
      endpoints.add(e);
    }
  }

  /** An empty source. */
  public StaticEndpointSource() {
    this(List.of());
  }

  @Override
  public synchronized void start(Listener newListener) {
    if (listener != null) {
      throw new IllegalStateException("this source already feeds a balancer");
    }
    listener = requireNonNull(newListener, "listener");
    push();
  }

  /**
   * Adds an endpoint.
   *
   * @param endpoint the endpoint
   * @throws IllegalArgumentException when its id is already present
   */
  public synchronized void add(Endpoint endpoint) {
    requireNonNull(endpoint, "endpoint");
    if (indexOf(endpoint.id()) >= 0) {
      throw new IllegalArgumentException("endpoint id '" + endpoint.id() + "' is already present");
    }
    endpoints.add(endpoint);
    push();
  }

  /**
   * Replaces the endpoint with the same id (new weight, metadata, zone or address).
   *
   * @param endpoint the endpoint
   * @throws IllegalArgumentException when no endpoint has that id
   */
  public synchronized void update(Endpoint endpoint) {
    requireNonNull(endpoint, "endpoint");
    int i = indexOf(endpoint.id());
    if (i < 0) {
      throw new IllegalArgumentException("no endpoint with id '" + endpoint.id() + "'");
    }
    endpoints.set(i, endpoint);
    push();
  }

  /**
   * Removes the endpoint with this id; returns whether there was one.
   *
   * @param id the endpoint id
   * @return whether there was one
   */
  public synchronized boolean remove(String id) {
    int i = indexOf(requireNonNull(id, "id"));
    if (i < 0) {
      return false;
    }
    endpoints.remove(i);
    push();
    return true;
  }

  /**
   * The current set.
   *
   * @return the current set
   */
  public synchronized List<Endpoint> endpoints() {
    return List.copyOf(endpoints);
  }

  private int indexOf(String id) {
    for (int i = 0; i < endpoints.size(); i++) {
      if (endpoints.get(i).id().equals(id)) {
        return i;
      }
    }
    return -1;
  }

  // Pushing under the monitor keeps sets in order: the balancer never sees an older set last.
  private void push() {
    if (listener != null) {
      listener.onEndpoints(List.copyOf(endpoints));
    }
  }
}
