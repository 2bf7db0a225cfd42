package io.miniloadbalancer.consul;

import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;
import org.kiwiproject.consul.option.ImmutableQueryOptions;
import org.kiwiproject.consul.option.QueryOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rules of one blocking query on the watch loop, apart from the loop: what the next query asks
 * with (Consul's index rules), how long its read may take, and how long to back off after a failed
 * one. Stateless.
 */
final class BlockingQueries {

  private static final Logger LOG = LoggerFactory.getLogger(ConsulEndpointSource.class);

  private BlockingQueries() {}

  /**
   * Consul adds up to wait/16 of jitter to a blocking query; 3 s more covers a busy local agent.
   */
  static Duration readTimeout(Duration wait) {
    return wait.plus(wait.dividedBy(16)).plusSeconds(3);
  }

  static QueryOptions query(
      BigInteger index, Duration wait, @Nullable String datacenter, List<String> tags) {
    ImmutableQueryOptions.Builder q = ImmutableQueryOptions.builder();
    // Index 0 asks for an immediate answer; a wait needs an index, so none then.
    if (index.signum() > 0) {
      q.index(index).wait(Math.max(1, wait.toSeconds()) + "s");
    }
    if (datacenter != null) {
      q.datacenter(datacenter);
    }
    q.tag(tags);
    return q.build();
  }

  /** Consul's blocking-query index rules. */
  static BigInteger nextIndex(BigInteger current, @Nullable BigInteger answered, String who) {
    if (answered == null || answered.signum() <= 0) {
      // Never send 0 (or nothing) back: the agent would answer at once, every time.
      LOG.debug("{}: answer had index {}; next query uses 1", who, answered);
      return BigInteger.ONE;
    }
    if (answered.compareTo(current) < 0) {
      LOG.info(
          "{}: index went backwards ({} -> {}), the agent restarted or changed; resetting"
              + " to 0",
          who,
          current,
          answered);
      return BigInteger.ZERO;
    }
    return answered;
  }

  /** Exponential with equal jitter: half fixed, half random, so retries never synchronise. */
  static long backoffNanos(int failures, Duration initial, Duration maximum) {
    long base = initial.toNanos();
    long max = maximum.toNanos();
    long exp = failures >= 30 ? max : Math.min(max, base << Math.min(failures - 1, 30));
    long half = Math.max(1, exp / 2);
    return half + ThreadLocalRandom.current().nextLong(half + 1);
  }

  static Throwable rootCause(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root;
  }

  /** A failed query in one line for the log and the snapshot: at most 300 characters. */
  static String describe(Throwable e) {
    Throwable root = rootCause(e);
    String msg = e.getMessage();
    String rootMsg =
        root == e ? "" : " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    String text = (msg == null ? e.getClass().getSimpleName() : msg) + rootMsg;
    return text.length() > 300 ? text.substring(0, 300) + "..." : text;
  }
}
