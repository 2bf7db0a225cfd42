package io.miniloadbalancer.edge.admin;

import io.miniloadbalancer.edge.config.EdgeConfig;
import java.util.concurrent.CompletableFuture;

/**
 * The process's configuration as the admin plane reaches it: the one running now ({@code GET
 * /admin/config}) and a reload of the file ({@code POST /admin/config/reload}). The root wiring
 * implements it; the plane never reads a file itself.
 */
public interface ConfigControl {

  /**
   * The configuration running now.
   *
   * @return the configuration last applied
   */
  EdgeConfig current();

  /**
   * Reads the configuration again and applies what changed.
   *
   * @param trigger who asked, for the log ({@code admin}, {@code SIGHUP}, {@code file watch})
   * @return completes with the outcome; never exceptionally for a bad file (that is an {@code
   *     invalid} report)
   */
  CompletableFuture<ReloadReport> reload(String trigger);
}
