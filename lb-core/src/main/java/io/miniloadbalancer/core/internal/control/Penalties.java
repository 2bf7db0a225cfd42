package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.PoolEvent;
import io.miniloadbalancer.core.spi.Scheduler;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Retry-After penalties: an endpoint that answered 429, or 503 with Retry-After, is left alone
 * until the time it asked for (capped), then the table is rebuilt to take it back. Strategies other
 * than {@code p2c-ewma} skip penalized endpoints when publishing; {@code p2c-ewma} prices the
 * penalty in instead.
 */
public final class Penalties {

  /** One endpoint's penalty expiry; its field belongs to {@link Penalties}. */
  static final class Track {
    private Scheduler.@Nullable Cancellable expiry;

    void cancel() {
      Pool.cancel(expiry);
      expiry = null;
    }
  }

  private final Pool pool;
  private final Journal journal;
  private final TablePublisher publisher;
  private final long maxPenaltyNanos;

  /** Penalties of at most {@code maxPenaltyNanos}. */
  public Penalties(Pool pool, Journal journal, TablePublisher publisher, long maxPenaltyNanos) {
    this.pool = pool;
    this.journal = journal;
    this.publisher = publisher;
    this.maxPenaltyNanos = maxPenaltyNanos;
  }

  /** {@code m} asked to be left alone until {@code untilNanos}. */
  public void onOverloaded(Effects fx, Member m, long untilNanos) {
    long now = pool.now();
    long until = Math.min(untilNanos, now + maxPenaltyNanos);
    if (until <= m.runtime().penaltyUntilNanos()) {
      return;
    }
    m.runtime().penaltyUntilNanos(until);
    journal.event(
        fx,
        PoolEvent.Kind.PENALIZED,
        m.id(),
        "asked for a pause of " + TimeUnit.NANOSECONDS.toMillis(until - now) + " ms");
    Track t = m.penalty;
    t.cancel();
    t.expiry =
        pool.later(
            until - now,
            later -> {
              t.expiry = null;
              publisher.publish(later);
            });
    publisher.publish(fx);
  }
}
