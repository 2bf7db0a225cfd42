package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * How an endpoint source is doing: what it watches, how old its last good answer is and what went
 * wrong last. Part of {@link BalancerSnapshot}, so the admin plane and the metrics can tell that a
 * balancer routes on an old set.
 *
 * @param description what the source is, for example {@code "consul service 'api' at
 *     http://127.0.0.1:8500"}
 * @param staleness how long the set has not been known current (at most the age of the last good
 *     answer); {@code null} for sources that cannot be stale (a static list) or that never had an
 *     answer yet
 * @param problem the current problem (agent unreachable, a held-back shrink, garbage), or {@code
 *     null} when all is well
 */
public record SourceSnapshot(
    String description, @Nullable Duration staleness, @Nullable String problem) {

  /**
   * Validates.
   *
   * @param description what the source is, for example {@code "consul service 'api' at
   *     http://127.0.0.1:8500"}
   * @param staleness how long the set has not been known current (at most the age of the last good
   *     answer); {@code null} for sources that cannot be stale (a static list) or that never had an
   *     answer yet
   * @param problem the current problem (agent unreachable, a held-back shrink, garbage), or {@code
   *     null} when all is well
   */
  public SourceSnapshot {
    requireNonNull(description, "description");
  }

  /**
   * A source that is never stale and has no problems.
   *
   * @param description what the source is, for people
   * @return a source that is never stale and has no problems
   */
  public static SourceSnapshot alwaysFresh(String description) {
    return new SourceSnapshot(description, null, null);
  }
}
