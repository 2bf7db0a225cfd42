package io.miniloadbalancer.edge.http;

import java.util.AbstractMap;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A map read from every event loop without a lock and changed rarely (pools added or removed by a
 * config reload): each change copies the whole map and publishes the copy with one volatile write,
 * so a reader sees the map before or after a change, never half of one. Iteration keeps insertion
 * order. Views are read-only.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class CopyOnWriteMap<K, V> extends AbstractMap<K, V> {

  private volatile Map<K, V> current = Map.of();

  @Override
  public @Nullable V get(Object key) {
    return current.get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return current.containsKey(key);
  }

  @Override
  public int size() {
    return current.size();
  }

  @Override
  public Set<K> keySet() {
    return current.keySet();
  }

  @Override
  public Collection<V> values() {
    return current.values();
  }

  @Override
  public Set<Map.Entry<K, V>> entrySet() {
    return current.entrySet();
  }

  @Override
  public synchronized @Nullable V put(K key, V value) {
    Map<K, V> next = new LinkedHashMap<>(current);
    V old = next.put(key, value);
    current = Collections.unmodifiableMap(next);
    return old;
  }

  @Override
  public synchronized @Nullable V remove(Object key) {
    if (!current.containsKey(key)) {
      return null;
    }
    Map<K, V> next = new LinkedHashMap<>(current);
    V old = next.remove(key);
    current = Collections.unmodifiableMap(next);
    return old;
  }
}
