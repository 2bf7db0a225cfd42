package io.miniloadbalancer.edge.config;

/**
 * The access log: one JSON line per proxied request on the logger {@code
 * io.miniloadbalancer.edge.access}. Env: {@code EDGE_ACCESS_LOG_ENABLED}.
 *
 * @param enabled default true: an edge proxy's first question is "what came through"; turn it off
 *     when the ALB's own access log already answers it
 */
public record AccessLogSettings(Boolean enabled) {

  /** Defaults. */
  public AccessLogSettings {
    enabled = enabled != null ? enabled : Boolean.TRUE;
  }
}
