package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.Transition;
import java.util.ArrayList;
import java.util.List;

/**
 * A bounded log of the most recent transitions. Written on the control context, read by snapshots
 * from any thread; a monitor guards it because neither side is on the data path.
 */
public final class TransitionLog {

  private final Transition[] entries;
  private int next;
  private long written;

  /**
   * A log that keeps the last {@code capacity} transitions.
   *
   * @throws IllegalArgumentException when capacity is below 1
   */
  public TransitionLog(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("transitionLogSize must be at least 1, was " + capacity);
    }
    entries = new Transition[capacity];
  }

  /** Appends, dropping the oldest entry when full. */
  public synchronized void add(Transition transition) {
    entries[next] = transition;
    next = (next + 1) % entries.length;
    written++;
  }

  /** The retained entries, oldest first. */
  public synchronized List<Transition> toList() {
    int size = (int) Math.min(written, entries.length);
    List<Transition> list = new ArrayList<>(size);
    int start = written > entries.length ? next : 0;
    for (int i = 0; i < size; i++) {
      list.add(entries[(start + i) % entries.length]);
    }
    return list;
  }

  /** How many transitions were ever written (retained or not). */
  public synchronized long written() {
    return written;
  }
}
