/**
 * Edge Balancer core: backend pools, strategies, endpoint states, leases and introspection.
 *
 * <p>Only the API package and the extension points ({@code .spi}, {@code .strategy}) are exported;
 * everything under {@code .internal} may change without notice.
 */
module io.miniloadbalancer.core {
  requires org.slf4j;
  requires java.net.http;
  requires static transitive org.jspecify;

  exports io.miniloadbalancer.core;
  exports io.miniloadbalancer.core.spi;
  exports io.miniloadbalancer.core.strategy;

  uses io.miniloadbalancer.core.strategy.Strategy;
}
