package io.miniloadbalancer.edge.admin;

import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.EndpointSnapshot;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each endpoint's error rate over the last {@value #WINDOW_SECONDS} seconds, for the admin plane.
 *
 * <p>lb-core's snapshots carry lifetime counters (successes, failures, overloaded); a lifetime rate
 * hides a fault that began a minute ago behind hours of good traffic. This keeps, per pool, a few
 * samples of those counters taken as admin reads arrive (at most one a second, so at most {@code
 * WINDOW_SECONDS + 1} per pool) and reports the difference between now and the newest sample at
 * least a window old. Sampling on read keeps the proxy free of a timer and costs nothing when
 * nobody looks; the price is that after a quiet spell the first read compares against an older
 * sample, which is why the answer states the window it really covers.
 *
 * <p>Errors are failures plus overloaded answers (429, 503 with Retry-After): both are requests the
 * endpoint did not serve. Thread-safe: each pool's samples are guarded by their own lock; admin
 * reads are rare, and the data plane never comes here.
 */
final class RecentErrorRates {

  /** The window: 10 s, long enough to hold ten 1 s dashboard polls, short enough to be "now". */
  static final int WINDOW_SECONDS = 10;

  private static final long WINDOW_NANOS = WINDOW_SECONDS * 1_000_000_000L;
  private static final long SAMPLE_EVERY_NANOS = 1_000_000_000L;

  private record Counts(long ok, long errors) {}

  private record Sample(long nanos, Map<String, Counts> byEndpoint) {}

  private final Map<String, ArrayDeque<Sample>> pools = new ConcurrentHashMap<>();

  /**
   * The rates for {@code snapshot}'s pool as of {@code nowNanos}: {@code windowSeconds} (the span
   * really covered; 0 on the very first read) and per endpoint {@code requests}, {@code errors} and
   * {@code rate} (null when it served nothing in the window).
   */
  Map<String, Object> observe(BalancerSnapshot snapshot, long nowNanos) {
    Map<String, Counts> now = new HashMap<>();
    for (EndpointSnapshot e : snapshot.endpoints()) {
      now.put(e.id(), new Counts(e.successes(), e.failures() + e.overloaded()));
    }
    ArrayDeque<Sample> samples = pools.computeIfAbsent(snapshot.name(), k -> new ArrayDeque<>());
    Sample base;
    synchronized (samples) {
      if (samples.isEmpty() || nowNanos - samples.peekLast().nanos() >= SAMPLE_EVERY_NANOS) {
        samples.addLast(new Sample(nowNanos, now));
      }
      // Keep the newest sample that is at least a window old as the base; drop older ones.
      while (samples.size() > 1 && nowNanos - second(samples).nanos() >= WINDOW_NANOS) {
        samples.removeFirst();
      }
      base = samples.peekFirst();
    }
    Map<String, Object> endpoints = new LinkedHashMap<>();
    for (EndpointSnapshot e : snapshot.endpoints()) {
      Counts c = now.get(e.id());
      Counts b = base.byEndpoint().getOrDefault(e.id(), new Counts(0, 0));
      long ok = Math.max(0, c.ok() - b.ok());
      long errors = Math.max(0, c.errors() - b.errors());
      long requests = ok + errors;
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("requests", requests);
      m.put("errors", errors);
      m.put("rate", requests == 0 ? null : (double) errors / requests);
      endpoints.put(e.id(), m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("windowSeconds", Math.round((nowNanos - base.nanos()) / 1e8) / 10.0);
    out.put("endpoints", endpoints);
    return out;
  }

  private static Sample second(ArrayDeque<Sample> samples) {
    var it = samples.iterator();
    it.next();
    return it.next();
  }
}
