package io.miniloadbalancer.consul;

import io.miniloadbalancer.core.spi.EndpointSource.Listener;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.kiwiproject.consul.Consul;
import org.kiwiproject.consul.HealthClient;
import org.kiwiproject.consul.config.CacheConfig;
import org.kiwiproject.consul.config.ClientConfig;
import org.kiwiproject.consul.model.ConsulResponse;
import org.kiwiproject.consul.model.health.ServiceHealth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watch loop of a {@link ConsulEndpointSource}: query (by {@link BlockingQueries}' rules), map
 * ({@link ConsulMapping}), guard the membership ({@link UpdateGuard}), hand the set to the
 * balancer, pace; on failure keep the last good set and back off. Each kind of problem is logged
 * once when it starts and once when it ends.
 *
 * <p>{@link #run} runs on the source's one daemon thread; the loop's own state (index, failures) is
 * confined to it. What others read ({@link #stalenessNanos}, {@link #problem}, {@link #queries}) is
 * volatile.
 *
 * <p><b>Staleness</b> is how long the set has not been known to be current. A believed answer
 * confirms it, and so does every moment of the blocking query that follows one (the agent would
 * answer at once on a change), so a healthy watch reads about 0 however long its queries block.
 * When a query fails, the set counts as confirmed only up to that query's start (the agent may have
 * gone any time after), and staleness grows from there until an answer is believed again: it never
 * drops because the agent went away.
 */
final class ConsulWatch {

  private static final Logger LOG = LoggerFactory.getLogger(ConsulEndpointSource.class);

  private final ConsulEndpointSource.Builder config;
  private final String description;
  private final Consul consul;
  private final HealthClient health;
  private final UpdateGuard guard;
  private final CountDownLatch firstAnswer = new CountDownLatch(1);
  private final Set<String> loggedSkips = new HashSet<>();

  private volatile boolean closed;
  private volatile long confirmedNanos = Long.MIN_VALUE;
  // The start of the query in flight when it follows a believed answer; MIN_VALUE otherwise.
  private volatile long watchingSinceNanos = Long.MIN_VALUE;
  private volatile @Nullable String problem;
  private volatile long queries;

  // The loop's state: the watch thread's only.
  private BigInteger index = BigInteger.ZERO;
  private int failures;
  private long failingSince;
  private @Nullable String problemKind;
  private boolean inSync;

  ConsulWatch(ConsulEndpointSource.Builder b, String description) {
    this.config = b;
    this.description = description;
    Consul.Builder client =
        Consul.builder()
            .withUrl(b.agent.toString())
            .withPing(false)
            .withConnectTimeoutMillis(b.connectTimeout.toMillis())
            .withReadTimeoutMillis(BlockingQueries.readTimeout(b.wait).toMillis())
            // One read-timeout rule, ours (above), instead of the client's per-request
            // adjustment.
            .withClientConfiguration(
                new ClientConfig(
                    CacheConfig.builder().withTimeoutAutoAdjustmentEnabled(false).build()));
    if (b.aclToken != null) {
      client.withAclToken(b.aclToken);
    }
    this.consul = client.build();
    this.health = consul.healthClient();
    this.guard = new UpdateGuard(b.maxShrinkPercent, b.shrinkConfirmation.toNanos());
  }

  /** Waits for the first believed answer; false when none came within {@code nanos}. */
  boolean awaitFirstAnswer(long nanos) throws InterruptedException {
    return firstAnswer.await(nanos, TimeUnit.NANOSECONDS);
  }

  /** How long the set has not been known current at {@code nowNanos}; -1 before any answer. */
  long stalenessNanos(long nowNanos) {
    long confirmed = confirmedNanos;
    if (confirmed == Long.MIN_VALUE) {
      return -1;
    }
    return watchingSinceNanos != Long.MIN_VALUE ? 0 : Math.max(0, nowNanos - confirmed);
  }

  @Nullable String problem() {
    return problem;
  }

  long queries() {
    return queries;
  }

  /** Ends the loop: the query in flight is cancelled (the caller interrupts the thread). */
  void close() {
    closed = true;
    consul.destroy();
  }

  void run(Listener listener) {
    while (!closed) {
      long started = System.nanoTime();
      if (inSync) {
        watchingSinceNanos = started;
      }
      try {
        queries++;
        ConsulResponse<List<ServiceHealth>> answer =
            health.getAllServiceInstances(
                config.service,
                BlockingQueries.query(index, config.wait, config.datacenter, config.tags));
        List<ServiceHealth> instances = answer.getResponse();
        if (instances == null) {
          throw new IllegalStateException("the agent answered without a body");
        }
        onAnswer(listener, instances, answer.getIndex(), started);
      } catch (RuntimeException e) {
        if (closed) {
          break;
        }
        onFailure(e, started);
      }
    }
  }

  private void onAnswer(
      Listener listener,
      List<ServiceHealth> instances,
      @Nullable BigInteger answeredIndex,
      long started) {
    ConsulMapping.Mapped mapped = ConsulMapping.map(filterTags(instances), config.mapping());
    logSkips(mapped.skipped());
    Set<String> ids = new HashSet<>();
    mapped.endpoints().forEach(e -> ids.add(e.id()));
    UpdateGuard.Verdict verdict = guard.offer(ids, System.nanoTime());
    UpdateGuard.Verdict held = null;
    if (verdict.accept()) {
      listener.onEndpoints(mapped.endpoints(), mapped.health());
      confirmedNanos = System.nanoTime();
      inSync = true;
      firstAnswer.countDown();
    } else {
      held = verdict;
      outOfSync(started);
    }
    index = BlockingQueries.nextIndex(index, answeredIndex, description);
    if (failures > 0 || problemKind != null) {
      LOG.info(
          "{}: recovered after {} failed queries in {} ms",
          description,
          failures,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failingSince));
    }
    failures = 0;
    problemKind = null;
    reportHold(held, ids.size());
    pause(started, config.minQueryInterval.toNanos());
    if (held != null && !closed) {
      // Re-ask soon enough to confirm or drop the shrink on time, not one full wait later.
      index = BigInteger.ZERO;
      pause(System.nanoTime(), Math.min(held.remainingNanos(), TimeUnit.SECONDS.toNanos(1)));
    }
  }

  /** The membership guard's state as the snapshot's problem, logged when it starts and ends. */
  private void reportHold(UpdateGuard.@Nullable Verdict held, int instances) {
    String current = problem;
    if (held != null) {
      String why = "holding the last good set: " + held.holdReason();
      if (current == null || !current.startsWith("holding")) {
        LOG.warn(
            "{}: {}; believed only if it persists {} ms more",
            description,
            why,
            TimeUnit.NANOSECONDS.toMillis(held.remainingNanos()));
      }
      problem = why;
    } else if (current != null) {
      if (current.startsWith("holding")) {
        LOG.info("{}: membership change believed ({})", description, instances + " instances");
      }
      problem = null;
    }
  }

  /**
   * Stops counting the query in flight as confirmation; the set was last confirmed at {@code at}.
   */
  private void outOfSync(long at) {
    inSync = false;
    if (watchingSinceNanos != Long.MIN_VALUE) {
      confirmedNanos = at;
      watchingSinceNanos = Long.MIN_VALUE;
    }
  }

  private void onFailure(RuntimeException e, long started) {
    if (watchingSinceNanos != Long.MIN_VALUE) {
      outOfSync(started);
    }
    inSync = false;
    if (failures == 0) {
      failingSince = started;
    }
    failures++;
    // After a failure the agent may have restarted with a lower index; a query with our old,
    // now "future" index would block for the full wait before telling us. Re-sync at once.
    index = BigInteger.ZERO;
    String kind = e.getClass().getName() + ":" + BlockingQueries.rootCause(e).getClass().getName();
    problem =
        "query failed " + failures + "x, keeping the last good set: " + BlockingQueries.describe(e);
    if (!kind.equals(problemKind)) {
      LOG.warn("{}: {}", description, problem);
      problemKind = kind;
    } else {
      LOG.debug("{}: {}", description, problem);
    }
    pause(
        System.nanoTime(),
        BlockingQueries.backoffNanos(failures, config.backoffInitial, config.backoffMax));
  }

  private List<ServiceHealth> filterTags(List<ServiceHealth> instances) {
    if (config.tags.isEmpty()) {
      return instances;
    }
    // The agent filters already; this guards against an agent that ignored the parameter.
    List<ServiceHealth> kept = new ArrayList<>(instances.size());
    for (ServiceHealth sh : instances) {
      if (sh.getService().getTags().containsAll(config.tags)) {
        kept.add(sh);
      }
    }
    return kept;
  }

  private void logSkips(List<String> skipped) {
    for (String s : skipped) {
      if (loggedSkips.size() > 1_000) {
        loggedSkips.clear();
      }
      if (loggedSkips.add(s)) {
        LOG.warn("{}: instance skipped: {}", description, s);
      }
    }
  }

  private void pause(long fromNanos, long nanos) {
    long until = fromNanos + nanos;
    long left;
    while (!closed && (left = until - System.nanoTime()) > 0) {
      try {
        TimeUnit.NANOSECONDS.sleep(left);
      } catch (InterruptedException e) {
        if (closed) {
          return;
        }
      }
    }
  }
}
