package io.miniloadbalancer.core.internal.control;

import java.util.ArrayList;
import java.util.List;

/**
 * What one control step fired, in order. Collected while the step changes state and delivered to
 * listeners only after it has published, so a listener never sees a state the data path does not.
 * Confined to the control context.
 */
public final class Effects {

  private final List<ControlEvent> fired = new ArrayList<>();

  void add(ControlEvent event) {
    fired.add(event);
  }

  List<ControlEvent> fired() {
    return fired;
  }
}
