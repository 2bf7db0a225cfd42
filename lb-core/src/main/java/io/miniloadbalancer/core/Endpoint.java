package io.miniloadbalancer.core;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * One backend a balancer can route to: an immutable value.
 *
 * <p>{@code id} identifies the endpoint across updates (an update with the same id and a new weight
 * or metadata is the same endpoint, changed); equality covers every field, so a changed weight is a
 * change. Instances are validated on construction and every rejection names the field:
 *
 * <pre>{@code
 * Endpoint a = Endpoint.of("a", "10.0.0.7", 8080);
 * Endpoint b = Endpoint.of("b", "10.0.0.8", 8080).withWeight(3).withZone("eu-west-1a");
 * }</pre>
 *
 * @param id stable identifier, unique within a pool; not blank
 * @param host host name or IP literal; not blank
 * @param port TCP port, 1 to 65535
 * @param weight relative share of traffic, 1 to {@value #MAX_WEIGHT}
 * @param zone availability zone, or the empty string when unknown
 * @param metadata free-form key/value pairs (copied)
 */
public record Endpoint(
    String id, String host, int port, int weight, String zone, Map<String, String> metadata) {

  /** The largest accepted weight; large enough for any ratio, small enough to never overflow. */
  public static final int MAX_WEIGHT = 1_000_000;

  /**
   * Validates and copies.
   *
   * @param id stable identifier, unique within a pool; not blank
   * @param host host name or IP literal; not blank
   * @param port TCP port, 1 to 65535
   * @param weight relative share of traffic, 1 to {@value #MAX_WEIGHT}
   * @param zone availability zone, or the empty string when unknown
   * @param metadata free-form key/value pairs (copied)
   * @throws IllegalArgumentException naming the field, when a value is out of range or blank
   * @throws NullPointerException naming the field, when a value is null
   */
  public Endpoint {
    requireNonNull(id, "id");
    requireNonNull(host, "host");
    requireNonNull(zone, "zone");
    requireNonNull(metadata, "metadata");
    if (id.isBlank()) {
      throw new IllegalArgumentException("id must not be blank");
    }
    if (host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank (endpoint '" + id + "')");
    }
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException(
          "port must be in 1..65535, was " + port + " (endpoint '" + id + "')");
    }
    if (weight < 1 || weight > MAX_WEIGHT) {
      throw new IllegalArgumentException(
          "weight must be in 1.." + MAX_WEIGHT + ", was " + weight + " (endpoint '" + id + "')");
    }
    metadata = Map.copyOf(metadata);
  }

  /**
   * An endpoint with weight 1, no zone and no metadata.
   *
   * @param id a unique id within the pool
   * @param host a host name or IP literal
   * @param port the TCP port, 1..65535
   * @return an endpoint with weight 1, no zone and no metadata
   * @throws IllegalArgumentException naming the field, when a value is out of range or blank
   */
  public static Endpoint of(String id, String host, int port) {
    return new Endpoint(id, host, port, 1, "", Map.of());
  }

  /**
   * A copy with another weight.
   *
   * @param newWeight the new weight
   * @return a copy with another weight
   */
  public Endpoint withWeight(int newWeight) {
    return new Endpoint(id, host, port, newWeight, zone, metadata);
  }

  /**
   * A copy with another zone ({@code ""} for unknown).
   *
   * @param newZone the new zone ({@code ""} for unknown)
   * @return a copy with another zone ({@code ""} for unknown)
   */
  public Endpoint withZone(String newZone) {
    return new Endpoint(id, host, port, weight, newZone, metadata);
  }

  /**
   * A copy with other metadata.
   *
   * @param newMetadata the new metadata
   * @return a copy with other metadata
   */
  public Endpoint withMetadata(Map<String, String> newMetadata) {
    return new Endpoint(id, host, port, weight, zone, newMetadata);
  }

  /**
   * {@code host:port}, bracketing IPv6 literals.
   *
   * @return {@code host:port}, bracketing IPv6 literals
   */
  public String authority() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
