package io.miniloadbalancer.core;

import io.miniloadbalancer.core.spi.HealthProbe;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

/**
 * A probe whose verdict per endpoint is a function of the probe count: a fake for the fault a real
 * server cannot produce on demand (a health endpoint alternating pass/fail on every probe).
 */
final class ScriptedProbe implements HealthProbe {

  private final Map<String, IntPredicate> scripts = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

  /** Probe number n (from 0) of {@code id} passes when {@code passes.test(n)}. Default: passes. */
  ScriptedProbe script(String id, IntPredicate passes) {
    scripts.put(id, passes);
    return this;
  }

  ScriptedProbe up(String id) {
    return script(id, n -> true);
  }

  ScriptedProbe down(String id) {
    return script(id, n -> false);
  }

  int probes(String id) {
    AtomicInteger c = counts.get(id);
    return c == null ? 0 : c.get();
  }

  @Override
  public CompletionStage<ProbeResult> check(Endpoint endpoint) {
    int n = counts.computeIfAbsent(endpoint.id(), k -> new AtomicInteger()).getAndIncrement();
    boolean pass = scripts.getOrDefault(endpoint.id(), x -> true).test(n);
    return CompletableFuture.completedFuture(
        pass ? ProbeResult.pass("scripted pass #" + n) : ProbeResult.fail("scripted fail #" + n));
  }
}
