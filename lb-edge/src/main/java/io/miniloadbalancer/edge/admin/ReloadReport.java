package io.miniloadbalancer.edge.admin;

import java.util.List;

/**
 * What a config reload did.
 *
 * @param result {@code applied} (something changed), {@code unchanged}, or {@code invalid} (the
 *     file was refused and the running configuration kept)
 * @param message one line for the operator: the file's error when invalid
 * @param changes what was applied, one line each ({@code pool 'b' added})
 * @param needsRestart settings that differ from the running ones but cannot change live (ports,
 *     workers): reported, not applied
 */
public record ReloadReport(
    String result, String message, List<String> changes, List<String> needsRestart) {

  /** Copies. */
  public ReloadReport {
    changes = List.copyOf(changes);
    needsRestart = List.copyOf(needsRestart);
  }

  /**
   * Whether the file was refused.
   *
   * @return true when the running configuration was kept because the new one is invalid
   */
  public boolean invalid() {
    return result.equals("invalid");
  }
}
