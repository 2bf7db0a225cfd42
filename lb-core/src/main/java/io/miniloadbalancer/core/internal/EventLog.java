package io.miniloadbalancer.core.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * A bounded log of the most recent entries (transitions, pool events). Written on the control
 * context, read by snapshots from any thread; a monitor guards it because neither side is on the
 * data path.
 *
 * @param <T> the entry type
 */
public final class EventLog<T> {

  private final Object[] entries;
  private int next;
  private long written;

  /**
   * A log that keeps the last {@code capacity} entries.
   *
   * @throws IllegalArgumentException when capacity is below 1
   */
  public EventLog(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("transitionLogSize must be at least 1, was " + capacity);
    }
    entries = new Object[capacity];
  }

  /** Appends, dropping the oldest entry when full. */
  public synchronized void add(T entry) {
    entries[next] = entry;
    next = (next + 1) % entries.length;
    written++;
  }

  /** The retained entries, oldest first. */
  @SuppressWarnings("unchecked")
  public synchronized List<T> toList() {
    int size = (int) Math.min(written, entries.length);
    List<T> list = new ArrayList<>(size);
    int start = written > entries.length ? next : 0;
    for (int i = 0; i < size; i++) {
      list.add((T) entries[(start + i) % entries.length]);
    }
    return list;
  }
}
