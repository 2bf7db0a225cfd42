package io.miniloadbalancer.edge.admin;

import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * One row of the admin plane's route table: the method and path template ({@code {name}} matches
 * one segment) that {@code GET /admin} lists, a one-line description, and the handler the request
 * goes to. A row without a handler is served before the table (health, metrics, the dashboard),
 * listed here so the index shows every route.
 *
 * @param method the method the route serves (the handler answers others with 405)
 * @param path the path template
 * @param description one line for the index
 * @param handler the handler, or null for a route served before the table
 */
record AdminRoute(String method, String path, String description, @Nullable Handler handler) {

  /** Answers a request that matched the row; {@code vars} are the template's values, in order. */
  @FunctionalInterface
  interface Handler {
    CompletableFuture<Answer> handle(HttpMethod method, Target target, List<String> vars);
  }

  /** The values of the template's variables when {@code segments} match it, else null. */
  @Nullable List<String> match(List<String> segments) {
    String[] template = path.substring(1).split("/");
    if (template.length != segments.size()) {
      return null;
    }
    List<String> vars = new ArrayList<>(2);
    for (int i = 0; i < template.length; i++) {
      String t = template[i];
      if (t.startsWith("{") && t.endsWith("}")) {
        vars.add(segments.get(i));
      } else if (!t.equals(segments.get(i))) {
        return null;
      }
    }
    return vars;
  }
}
