package io.miniloadbalancer.core.internal.strategy;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.internal.EndpointRuntime;
import io.miniloadbalancer.core.strategy.EndpointTable;

/**
 * The {@link EndpointTable} the balancer hands every strategy, built once per published table. The
 * built-in strategies read the runtimes and both weight sets directly; a user's sees the public
 * view.
 */
final class TableView implements EndpointTable {

  final EndpointRuntime[] endpoints;
  final double[] configured;
  final double[] effective;
  final StrategyConfig config;

  TableView(
      EndpointRuntime[] endpoints, double[] configured, double[] effective, StrategyConfig config) {
    this.endpoints = endpoints;
    this.configured = configured;
    this.effective = effective;
    this.config = config;
  }

  /** The balancer's own view behind {@code table}; a built-in strategy needs its internals. */
  static TableView of(EndpointTable table, String strategy) {
    if (table instanceof TableView view) {
      return view;
    }
    throw new IllegalArgumentException(
        "built-in strategy '" + strategy + "' picks only over a balancer's own tables");
  }

  /** Per endpoint, the share of its keys a ramping endpoint takes now (1 = all). */
  double[] admission() {
    double[] admission = new double[configured.length];
    for (int i = 0; i < admission.length; i++) {
      admission[i] = Math.min(1.0, effective[i] / configured[i]);
    }
    return admission;
  }

  @Override
  public int size() {
    return endpoints.length;
  }

  @Override
  public Endpoint endpoint(int index) {
    return endpoints[index].endpoint();
  }

  @Override
  public double weight(int index) {
    return effective[index];
  }

  @Override
  public int inFlight(int index) {
    return endpoints[index].inFlight();
  }

  @Override
  public long totalInFlight() {
    return config.totalInFlight().sum();
  }

  @Override
  public long nextRandom() {
    return config.random().getAsLong();
  }
}
