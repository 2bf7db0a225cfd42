package io.miniloadbalancer.edge.config;

import java.time.Duration;

/**
 * Watching the config file for changes (SIGHUP and {@code POST /admin/config/reload} reload it
 * always).
 *
 * @param watch reload when the file's content changes; default false (a half-written file would be
 *     refused and kept out anyway, but an operator may prefer to reload on purpose)
 * @param watchInterval how often the file is read and compared. Default 2 s. Polling, not inotify:
 *     a Kubernetes ConfigMap or an ECS bind mount replaces the file through a symlink swap, which a
 *     directory watch misses
 */
public record ReloadWatch(Boolean watch, Duration watchInterval) {

  /** Defaults and validation. */
  public ReloadWatch {
    watch = watch != null ? watch : Boolean.FALSE;
    watchInterval =
        atLeastDuration(
            watchInterval != null ? watchInterval : Duration.ofSeconds(2),
            Duration.ofMillis(100),
            "reload.watchInterval");
  }

  private static Duration atLeastDuration(Duration d, Duration min, String key) {
    if (d.compareTo(min) < 0) {
      throw new IllegalArgumentException(key + " must be at least " + min.toMillis() + "ms");
    }
    return d;
  }
}
