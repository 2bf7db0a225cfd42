package io.miniloadbalancer.core.internal.control;

import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.internal.ControlContext;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.spi.Scheduler;
import io.miniloadbalancer.core.spi.Ticker;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The pool as every stage sees it: its members in source order, its clock, random source and
 * timers, and the control context all of them run on. Everything here is confined to the control
 * context except the retired-outcome totals, which any thread may read.
 *
 * <p>A unit of control work is a {@link Step}. {@link #run} gives it fresh {@link Effects}, then
 * tells the listeners what it fired, then runs the after-step hook (slow start keeps its timer
 * going there), so every timer, signal and operator action ends the same way.
 */
public final class Pool {

  /** One unit of control work: changes state and collects what it fired. */
  @FunctionalInterface
  public interface Step {
    /** Runs on the control context. */
    void run(Effects fx);
  }

  private final String name;
  private final Ticker ticker;
  private final Scheduler scheduler;
  private final LongSupplier random;
  private final ControlContext control;
  private final Journal journal;
  private final Map<String, Member> members = new LinkedHashMap<>();
  // Outcome counts of endpoints that left the pool, so pool totals never go backwards.
  private final AtomicLongArray retiredOutcomes = new AtomicLongArray(Outcome.values().length);
  private Runnable afterStep = () -> {};
  private boolean closed;

  /** An empty pool whose steps report to {@code journal}. */
  public Pool(
      String name, Ticker ticker, Scheduler scheduler, LongSupplier random, Journal journal) {
    this.name = name;
    this.ticker = ticker;
    this.scheduler = scheduler;
    this.random = random;
    this.control = new ControlContext(name);
    this.journal = journal;
  }

  /** Sets the hook that ends every step; called once, while wiring. */
  public void afterEachStep(Runnable hook) {
    this.afterStep = hook;
  }

  /** The pool's name, for messages. */
  public String name() {
    return name;
  }

  /** Now, on the injected ticker. */
  public long now() {
    return ticker.read();
  }

  /** A uniform random number in [0, 1). */
  double uniform() {
    return (random.getAsLong() >>> 11) * 0x1.0p-53;
  }

  /** A uniform random number in [0, {@code bound}). */
  long below(long bound) {
    return (random.getAsLong() >>> 1) % bound;
  }

  // ---- steps and timers

  /** Runs {@code step} on the control context: now, or after the task in progress. */
  public void execute(Step step) {
    control.execute(() -> run(step));
  }

  /** Runs {@code step} here and now; the caller is on the control context. */
  public void run(Step step) {
    Effects fx = new Effects();
    step.run(fx);
    journal.deliver(fx);
    afterStep.run();
  }

  /** Runs {@code step} on the control context after {@code delayNanos}. */
  Scheduler.Cancellable later(long delayNanos, Step step) {
    return scheduler.schedule(() -> execute(step), delayNanos);
  }

  /**
   * Runs a step for a data-path signal on the scheduler's thread rather than on the request thread
   * that raised it: control work (an ejection rebuilds a routing table) must not land in one
   * unlucky request's latency.
   */
  public void soon(Step step) {
    later(0, step);
  }

  /** Whether the calling thread is running control tasks right now. */
  public boolean inControl() {
    return control.inContext();
  }

  /**
   * Runs {@code task} on the control context without a step of its own, for work that wraps a step
   * in ordering of its own (a probe result schedules the next round after listeners ran).
   */
  void executeTask(Runnable task) {
    control.execute(task);
  }

  static void cancel(Scheduler.@Nullable Cancellable task) {
    if (task != null) {
      task.cancel();
    }
  }

  // ---- members

  /** Whether the pool is closed: timers stop re-arming, updates are ignored. */
  public boolean closed() {
    return closed;
  }

  /** Closes the pool and cancels every member's timers. */
  public void close() {
    closed = true;
    for (Member m : members.values()) {
      m.cancelTimers();
    }
  }

  /** The member with this id, if any. */
  public @Nullable Member get(String id) {
    return members.get(id);
  }

  /** The member that {@code runtime} belongs to, while it is still in the pool. */
  public @Nullable Member memberOf(EndpointRuntime runtime) {
    Member m = members.get(runtime.id());
    return m != null && m.runtime() == runtime ? m : null;
  }

  /** Whether {@code m} is still in the pool (an endpoint re-added under its id is another). */
  boolean holds(Member m) {
    return members.get(m.id()) == m;
  }

  /** The live members, in source order; do not change the pool while iterating. */
  Collection<Member> members() {
    return members.values();
  }

  /** A copy of the members, for loops that may remove one. */
  List<Member> copy() {
    return List.copyOf(members.values());
  }

  int size() {
    return members.size();
  }

  void add(Member m) {
    members.put(m.id(), m);
  }

  /** Takes {@code m} out of the pool, keeping its outcome counts in the pool totals. */
  void retire(Member m) {
    members.remove(m.id());
    EndpointRuntime r = m.runtime();
    retiredOutcomes.addAndGet(Outcome.SUCCESS.ordinal(), r.successes());
    retiredOutcomes.addAndGet(Outcome.FAILURE.ordinal(), r.failures());
    retiredOutcomes.addAndGet(Outcome.OVERLOADED.ordinal(), r.overloaded());
    retiredOutcomes.addAndGet(Outcome.CANCELLED.ordinal(), r.cancellations());
  }

  /** Leases ended with {@code outcome} on endpoints that have left the pool; any thread. */
  public long retired(Outcome outcome) {
    return retiredOutcomes.get(outcome.ordinal());
  }
}
