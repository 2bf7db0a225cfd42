package io.miniloadbalancer.consul;

import static java.util.Objects.requireNonNull;

import java.net.URI;

/** The Consul agent's address, validated once for every client in this module. */
final class AgentUrl {

  /** The local agent, as Consul intends (servers are not queried directly). */
  static final URI LOCAL = URI.create("http://127.0.0.1:8500");

  private AgentUrl() {}

  /**
   * Parses an http(s) URL with a host.
   *
   * @throws IllegalArgumentException naming the setting and the value otherwise
   */
  static URI parse(String url) {
    requireNonNull(url, "agent");
    URI u;
    try {
      u = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("agent must be an http(s) URL, was '" + url + "'", e);
    }
    if (u.getHost() == null || !("http".equals(u.getScheme()) || "https".equals(u.getScheme()))) {
      throw new IllegalArgumentException("agent must be an http(s) URL, was '" + url + "'");
    }
    return u;
  }
}
