package io.miniloadbalancer.edge.http;

/**
 * Where the process is in its life, as both listeners need it: {@code /readyz} reports it, and once
 * the proxy drains no answer promises keep-alive. The root implements it; the listeners only read
 * it.
 */
public interface Readiness {

  /**
   * The process's state now.
   *
   * @return {@code starting}, {@code ready}, {@code draining} or {@code stopped}
   */
  String state();

  /**
   * Whether the proxy is shutting down: past {@code ready}, so connections close after their
   * answer.
   *
   * @return true once draining or stopped
   */
  default boolean draining() {
    String s = state();
    return !s.equals("ready") && !s.equals("starting");
  }
}
