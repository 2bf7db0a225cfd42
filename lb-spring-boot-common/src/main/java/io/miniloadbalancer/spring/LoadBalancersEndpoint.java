package io.miniloadbalancer.spring;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.BalancerSnapshot;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.Strategies;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.lang.Nullable;

/**
 * {@code /actuator/loadbalancers}: every pool's snapshot (GET), one pool's (GET {@code
 * /actuator/loadbalancers/{pool}}), and operator actions on a pool (POST to the same path with a
 * JSON body):
 *
 * <pre>{@code
 * {"action": "drain", "endpoint": "b1"}            // no new picks; in-flight requests finish
 * {"action": "undrain", "endpoint": "b1"}
 * {"action": "maintenance", "endpoint": "b1", "reason": "disk swap"}
 * {"action": "ready", "endpoint": "b1"}            // out of maintenance
 * {"action": "strategy", "strategy": "least-connections", "reason": "hot shard"}
 * }</pre>
 *
 * <p>Secured as every Actuator endpoint is: it must be exposed ({@code
 * management.endpoints.web.exposure.include}), and its default access is read-only, so the actions
 * need {@code management.endpoint.loadbalancers.access=unrestricted} (and pass through Spring
 * Security's rules for Actuator, when the application has them). An action answers once lb-core has
 * applied it (a drain: once it has started; its end shows in the snapshot).
 */
@Endpoint(id = "loadbalancers", defaultAccess = Access.READ_ONLY)
public class LoadBalancersEndpoint {

  private static final Duration APPLY_WAIT = Duration.ofSeconds(5);
  private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);

  private final EdgeBalancerPools pools;

  /**
   * The endpoint over the application's pools.
   *
   * @param pools the pools
   */
  public LoadBalancersEndpoint(EdgeBalancerPools pools) {
    this.pools = requireNonNull(pools, "pools");
  }

  /**
   * Every pool's snapshot.
   *
   * @return every pool's snapshot, by name
   */
  @ReadOperation
  public Map<String, BalancerSnapshot> pools() {
    Map<String, BalancerSnapshot> out = new LinkedHashMap<>();
    for (String name : pools.names()) {
      out.put(name, pools.get(name).snapshot());
    }
    return out;
  }

  /**
   * One pool's snapshot.
   *
   * @param pool the pool's name
   * @return its snapshot, or null (404) when there is no such pool
   */
  @ReadOperation
  public @Nullable BalancerSnapshot pool(@Selector String pool) {
    LoadBalancer b = pools.find(pool);
    return b == null ? null : b.snapshot();
  }

  /**
   * Applies an operator action to a pool.
   *
   * @param pool the pool's name
   * @param action drain, undrain, maintenance, ready or strategy
   * @param endpoint the endpoint's id (all actions but strategy)
   * @param strategy the new strategy (the strategy action)
   * @param reason why, kept in the transition log
   * @return what was done, or null (404) when there is no such pool
   */
  @WriteOperation
  public @Nullable Map<String, Object> change(
      @Selector String pool,
      String action,
      @Nullable String endpoint,
      @Nullable String strategy,
      @Nullable String reason) {
    LoadBalancer b = pools.find(pool);
    if (b == null) {
      return null;
    }
    String why = reason == null || reason.isBlank() ? "actuator" : reason;
    CompletableFuture<?> applied =
        switch (action) {
          case "drain" -> {
            requireEndpoint(b, action, endpoint);
            b.drain(endpoint, DRAIN_TIMEOUT);
            yield CompletableFuture.completedFuture(null);
          }
          case "undrain" -> b.undrain(requireEndpoint(b, action, endpoint));
          case "maintenance" -> b.maintenance(requireEndpoint(b, action, endpoint), true, why);
          case "ready" -> b.maintenance(requireEndpoint(b, action, endpoint), false, why);
          case "strategy" -> {
            if (strategy == null || !Strategies.isKnown(strategy)) {
              throw new InvalidEndpointRequestException(
                  Strategies.unknownMessage(String.valueOf(strategy)), "unknown strategy");
            }
            yield b.switchStrategy(strategy, why);
          }
          default ->
              throw new InvalidEndpointRequestException(
                  "unknown action '"
                      + action
                      + "'; one of drain, undrain, maintenance, ready,"
                      + " strategy",
                  "unknown action");
        };
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("pool", b.name());
    out.put("action", action);
    try {
      applied.get(APPLY_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      out.put("applied", true);
    } catch (ExecutionException e) {
      throw new InvalidEndpointRequestException(
          action + " refused: " + e.getCause().getMessage(), "refused");
    } catch (TimeoutException e) {
      out.put("applied", false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      out.put("applied", false);
    }
    out.put("strategy", b.strategy());
    return out;
  }

  private static String requireEndpoint(LoadBalancer b, String action, @Nullable String endpoint) {
    if (endpoint == null || b.snapshot().endpoint(endpoint).isEmpty()) {
      throw new InvalidEndpointRequestException(
          action + " needs 'endpoint', one of the pool's ids; was " + endpoint, "unknown endpoint");
    }
    return endpoint;
  }
}
