package io.miniloadbalancer.edge.config;

import java.util.List;

/**
 * The keys that seal affinity cookies, shared by every proxy of a fleet: a cookie then carries its
 * endpoint id under an HMAC-SHA256 seal, so any proxy honours it without a shared table. The first
 * key seals; every key verifies, so a key is rotated by adding the new one second, then (once every
 * proxy has it) moving it first, then dropping the old one. The environment sets them
 * comma-separated: {@code EDGE_STICKY_KEYS}.
 *
 * @param keys secrets of at least 32 characters (e.g. {@code openssl rand -base64 32}); default
 *     none: the table of each proxy process, stickiness per process
 */
public record StickyKeys(List<String> keys) {

  /** Defaults. The keys' length is checked when the file is loaded ({@link ConfigFiles}). */
  public StickyKeys {
    keys = keys != null ? List.copyOf(keys) : List.of();
  }

  /** The keys replaced by {@code "<redacted>"}. */
  StickyKeys redacted() {
    return new StickyKeys(keys.stream().map(k -> "<redacted>").toList());
  }
}
