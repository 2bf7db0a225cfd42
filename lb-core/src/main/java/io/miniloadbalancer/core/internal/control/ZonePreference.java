package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.PoolEvent;
import java.util.ArrayList;
import java.util.List;

/**
 * Zone-aware routing: with a local zone configured, only local candidates are routable while the
 * local zone has at least the configured share of its eligible endpoints routable; below that, and
 * in panic, traffic spills over to all zones. A flip of the decision is an event; the current mode
 * is shown in snapshots.
 */
final class ZonePreference {

  private final String zone;
  private final int minHealthyPercent;
  private final Journal journal;
  private volatile String mode;

  ZonePreference(String zone, int minHealthyPercent, Journal journal) {
    this.zone = zone;
    this.minHealthyPercent = minHealthyPercent;
    this.journal = journal;
    this.mode = zone.isEmpty() ? "zone-aware routing off" : "not evaluated";
  }

  /** The current decision, in words; any thread. */
  String mode() {
    return mode;
  }

  /** The candidates to route to: the local ones while the local zone holds up, else all. */
  List<Member> prefer(Effects fx, List<Member> candidates, List<Member> eligible, boolean panic) {
    if (zone.isEmpty()) {
      return candidates;
    }
    int localEligible = 0;
    for (Member m : eligible) {
      if (zone.equals(m.runtime().endpoint().zone())) {
        localEligible++;
      }
    }
    List<Member> local = new ArrayList<>();
    for (Member m : candidates) {
      if (zone.equals(m.runtime().endpoint().zone())) {
        local.add(m);
      }
    }
    boolean stay =
        !panic
            && !local.isEmpty()
            && local.size() * 100L >= (long) minHealthyPercent * localEligible;
    String next =
        (stay ? "local zone " + zone : "all zones")
            + ": "
            + local.size()
            + "/"
            + localEligible
            + " routable in "
            + zone
            + " (minimum "
            + minHealthyPercent
            + "%)"
            + (panic ? ", panic" : "");
    record(fx, next, stay);
    return stay ? local : candidates;
  }

  // An event when the decision flips (or is first made); count changes only update the mode.
  private void record(Effects fx, String next, boolean stay) {
    if (next.equals(mode)) {
      return;
    }
    boolean first = !mode.startsWith("local zone") && !mode.startsWith("all zones");
    boolean wasLocal = mode.startsWith("local zone");
    mode = next;
    if (first || wasLocal != stay) {
      journal.event(
          fx, stay ? PoolEvent.Kind.ZONE_LOCAL : PoolEvent.Kind.ZONE_SPILLOVER, null, next);
    }
  }
}
