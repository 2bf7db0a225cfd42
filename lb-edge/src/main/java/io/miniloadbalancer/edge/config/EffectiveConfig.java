package io.miniloadbalancer.edge.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.miniloadbalancer.yaml.YamlException;
import io.miniloadbalancer.yaml.YamlReader;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The configuration the proxy would run with, as YAML, each value followed by where it came from:
 * {@code # file}, {@code # env EDGE_...} or {@code # default} ({@code edge-proxy config
 * --effective}). Secrets are redacted as in {@code /admin/config}.
 */
public final class EffectiveConfig {

  private final JsonNode file;
  private final Map<String, String> envByPath = new HashMap<>();
  private final StringBuilder out = new StringBuilder();

  private EffectiveConfig(JsonNode file, Map<String, String> env) {
    this.file = file;
    Map<String, String> known = ConfigLoader.overridableKeys();
    env.forEach(
        (k, v) -> {
          if (known.containsKey(k)) {
            envByPath.put(known.get(k), k);
          }
        });
  }

  /**
   * Renders the effective configuration of {@code file} (or of the defaults) under {@code env}.
   *
   * @param file the YAML file, or null for defaults and the environment only
   * @param env the process environment; only {@code EDGE_*} variables are read
   * @return YAML text with a source comment per value
   * @throws InvalidConfigException when the configuration is invalid (the start-up message)
   */
  public static String render(@Nullable Path file, Map<String, String> env)
      throws InvalidConfigException {
    EdgeConfig config;
    JsonNode tree = MissingNode.getInstance();
    if (file != null) {
      config = ConfigFiles.load(file, env);
      try {
        tree = YamlReader.builder().build().readTree(Files.readString(file), file.toString());
      } catch (IOException | YamlException e) {
        throw new InvalidConfigException(e);
      }
    } else {
      config = ConfigFiles.parse("", "defaults", env);
    }
    EffectiveConfig r = new EffectiveConfig(tree, env);
    r.record(config.redacted(), "", 0);
    return r.out.toString();
  }

  private void record(Object record, String path, int depth) {
    for (RecordComponent c : record.getClass().getRecordComponents()) {
      value(
          c.getName(),
          read(c, record),
          path.isEmpty() ? c.getName() : path + "." + c.getName(),
          depth);
    }
  }

  private void value(String key, @Nullable Object v, String path, int depth) {
    String indent = "  ".repeat(depth);
    String source = source(path);
    if (v != null && v.getClass().isRecord()) {
      out.append(indent).append(key).append(":  # ").append(source).append('\n');
      record(v, path, depth + 1);
    } else if (v instanceof Map<?, ?> m && !m.isEmpty()) {
      out.append(indent).append(key).append(":  # ").append(source).append('\n');
      m.forEach((k, item) -> value(String.valueOf(k), item, path + "." + k, depth + 1));
    } else if (v instanceof List<?> l && !l.isEmpty() && l.get(0).getClass().isRecord()) {
      out.append(indent).append(key).append(":  # ").append(source).append('\n');
      for (int i = 0; i < l.size(); i++) {
        out.append(indent).append("  -\n");
        record(l.get(i), path + "." + i, depth + 2);
      }
    } else {
      out.append(indent)
          .append(key)
          .append(": ")
          .append(scalar(v))
          .append("  # ")
          .append(source)
          .append('\n');
    }
  }

  private String source(String path) {
    String var = envByPath.get(path);
    if (var != null) {
      return "env " + var;
    }
    JsonNode node = file.at("/" + path.replace(".", "/"));
    return node.isMissingNode() ? "default" : "file";
  }

  private static String scalar(@Nullable Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof Duration d) {
      return duration(d);
    }
    if (v instanceof List<?> l) {
      StringBuilder b = new StringBuilder("[");
      for (Object o : l) {
        b.append(b.length() > 1 ? ", " : "").append(scalar(o));
      }
      return b.append(']').toString();
    }
    if (v instanceof Map<?, ?>) {
      return "{}";
    }
    String s = v.toString();
    boolean plain =
        v instanceof Number
            || v instanceof Boolean
            || s.matches("[A-Za-z0-9_/][A-Za-z0-9_./:@-]*")
                && !s.matches("[0-9]+([.][0-9]*)?")
                && !List.of("true", "false", "null", "yes", "no", "on", "off").contains(s);
    return plain ? s : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  /** The config's own duration syntax, in the largest unit that is exact. */
  static String duration(Duration d) {
    long ms = d.toMillis();
    if (ms != 0 && ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms != 0 && ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }

  private static @Nullable Object read(RecordComponent c, Object record) {
    try {
      return c.getAccessor().invoke(record);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }
}
