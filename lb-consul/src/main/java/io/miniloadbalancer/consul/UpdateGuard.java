package io.miniloadbalancer.consul;

import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Decides whether an answer's membership is believed: one that empties the set, or removes more
 * than {@code maxShrinkPercent} of it, is held back until the same shrink has persisted for {@code
 * confirmationNanos}. An agent that lost its state (a restart in dev mode, a wiped data dir) or a
 * bad ACL token answers with an empty list: believing it at once would drain every backend.
 *
 * <p>Only membership counts: instances that turn critical stay in Consul's answer and are handled
 * by the balancer's health logic (and its panic threshold), not here. Single-threaded (the watch
 * loop).
 */
final class UpdateGuard {

  /** The guard's verdict on one answer. */
  record Verdict(boolean accept, @Nullable String holdReason, long remainingNanos) {}

  private final int maxShrinkPercent;
  private final long confirmationNanos;
  private @Nullable Set<String> believed;
  private long shrinkSinceNanos = Long.MIN_VALUE;

  UpdateGuard(int maxShrinkPercent, long confirmationNanos) {
    this.maxShrinkPercent = maxShrinkPercent;
    this.confirmationNanos = confirmationNanos;
  }

  Verdict offer(Set<String> ids, long nowNanos) {
    Set<String> last = believed;
    if (last == null || last.isEmpty()) {
      return accept(ids);
    }
    int removed = 0;
    for (String id : last) {
      if (!ids.contains(id)) {
        removed++;
      }
    }
    boolean empties = ids.isEmpty();
    boolean shrinksTooMuch = (long) removed * 100 > (long) maxShrinkPercent * last.size();
    if (!empties && !shrinksTooMuch) {
      return accept(ids);
    }
    if (shrinkSinceNanos == Long.MIN_VALUE) {
      shrinkSinceNanos = nowNanos;
    }
    long held = nowNanos - shrinkSinceNanos;
    if (held >= confirmationNanos) {
      return accept(ids);
    }
    String why =
        empties
            ? "the answer has no instances (had " + last.size() + ")"
            : "the answer drops "
                + removed
                + " of "
                + last.size()
                + " instances (more than "
                + maxShrinkPercent
                + "%)";
    return new Verdict(false, why, confirmationNanos - held);
  }

  private Verdict accept(Set<String> ids) {
    believed = new HashSet<>(ids);
    shrinkSinceNanos = Long.MIN_VALUE;
    return new Verdict(true, null, 0);
  }
}
