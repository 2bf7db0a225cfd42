package io.miniloadbalancer.edge.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.miniloadbalancer.yaml.YamlException;
import io.miniloadbalancer.yaml.YamlReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads {@link EdgeConfig} from YAML, then applies environment overrides (12-factor, for ECS).
 *
 * <p>Overrides: every scalar key of the {@code server}, {@code admin}, {@code upstream} and {@code
 * consul} sections can be set by {@code EDGE_<SECTION>_<KEY>}, the key's camelCase split by {@code
 * _} and upper-cased: {@code server.drainTimeout} is {@code EDGE_SERVER_DRAIN_TIMEOUT}, {@code
 * admin.token} is {@code EDGE_ADMIN_TOKEN}; the list {@code admin.allowedHosts} is {@code
 * EDGE_ADMIN_ALLOWED_HOSTS}, comma-separated. An unknown {@code EDGE_*} variable is an error (a
 * typo would otherwise be ignored silently). Durations are written {@code 500ms}, {@code 20s},
 * {@code 5m} or {@code 1h} ({@link io.miniloadbalancer.yaml.Durations}).
 *
 * <p>Every error names the key and, from a file, the line (lb-yaml's {@link YamlReader}): {@code
 * edge.yaml line 7: server.port: expected a whole number, was "80x"}.
 */
final class ConfigLoader {

  static final String ENV_PREFIX = "EDGE_";
  private static final List<String> OVERRIDABLE_SECTIONS =
      List.of("server", "admin", "upstream", "consul", "reload", "sticky", "accessLog");

  /**
   * Read by the logging setup, not the config: EDGE_LOG_LEVEL, EDGE_LOG_LEVELS, EDGE_LOG_FORMAT.
   */
  private static final List<String> LOGGING_VARIABLES =
      List.of("EDGE_LOG_LEVEL", "EDGE_LOG_LEVELS", "EDGE_LOG_FORMAT");

  /** A configuration error: the message names the key and the line or variable. */
  static final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    ConfigException(String message) {
      super(message);
    }
  }

  /** Scalar coercion stays on: an environment override is text even where a number is meant. */
  private final YamlReader yaml = YamlReader.builder().build();

  ConfigLoader() {}

  /** Loads {@code file} (or nothing, for defaults) and applies {@code env}. */
  EdgeConfig load(Path file, Map<String, String> env) throws ConfigException {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + reason(e));
    }
    return load(text, file.getFileName().toString(), env);
  }

  /** The operating system's reason in words, not the exception's bare file name. */
  static String reason(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason().toLowerCase(Locale.ROOT);
    }
    if (e instanceof MalformedInputException || e instanceof CharacterCodingException) {
      return "not UTF-8 text";
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  /** Loads YAML {@code text} (named {@code source} in errors) and applies {@code env}. */
  EdgeConfig load(String text, String source, Map<String, String> env) throws ConfigException {
    JsonNode tree;
    try {
      tree = yaml.readTree(text, source);
    } catch (YamlException e) {
      throw new ConfigException(e.getMessage());
    }
    if (tree.isMissingNode() || tree.isNull()) {
      tree = JsonNodeFactory.instance.objectNode();
    }
    if (!tree.isObject()) {
      throw new ConfigException(source + ": the top level must be a mapping of sections");
    }
    Map<String, String> overrides = new TreeMap<>();
    env.forEach(
        (k, v) -> {
          if (k.startsWith(ENV_PREFIX) && !LOGGING_VARIABLES.contains(k)) {
            overrides.put(k, v);
          }
        });
    // The file alone first, so its errors carry its line numbers.
    YamlException fileError = null;
    try {
      EdgeConfig fromFile =
          text.isBlank()
              ? yaml.convert(tree, source, EdgeConfig.class)
              : yaml.read(text, source, EdgeConfig.class);
      if (overrides.isEmpty() && fromFile != null) {
        return fromFile;
      }
    } catch (YamlException e) {
      fileError = e;
      if (overrides.isEmpty()) {
        throw new ConfigException(e.getMessage());
      }
    }
    ObjectNode root = (ObjectNode) tree;
    Map<String, String> known = overridableKeys();
    for (Map.Entry<String, String> o : overrides.entrySet()) {
      String path = known.get(o.getKey());
      if (path == null) {
        throw new ConfigException(
            "environment variable "
                + o.getKey()
                + " is not a known override; known: "
                + String.join(", ", known.keySet()));
      }
      String[] parts = path.split("\\.");
      JsonNode section = root.get(parts[0]);
      ObjectNode sectionNode = section instanceof ObjectNode on ? on : root.putObject(parts[0]);
      if (listKeys().contains(path)) {
        // A list key from the environment: comma-separated, blanks dropped.
        var list = sectionNode.putArray(parts[1]);
        for (String item : o.getValue().split(",")) {
          if (!item.isBlank()) {
            list.add(item.trim());
          }
        }
      } else {
        sectionNode.set(parts[1], TextNode.valueOf(o.getValue()));
      }
    }
    try {
      return yaml.convert(
          root, "environment (" + String.join(", ", overrides.keySet()) + ")", EdgeConfig.class);
    } catch (YamlException merged) {
      // An error the file alone also has is reported with its line; else the variables caused
      // it.
      boolean fromFile =
          fileError != null
              && fileError.keyPath().equals(merged.keyPath())
              && fileError.problem().equals(merged.problem());
      throw new ConfigException(fromFile ? fileError.getMessage() : merged.getMessage());
    }
  }

  /**
   * {@code EDGE_SERVER_DRAIN_TIMEOUT} to {@code server.drainTimeout}, for every overridable key.
   */
  static Map<String, String> overridableKeys() {
    Map<String, String> keys = new TreeMap<>();
    for (var component : EdgeConfig.class.getRecordComponents()) {
      if (!OVERRIDABLE_SECTIONS.contains(component.getName())) {
        continue;
      }
      for (var field : component.getType().getRecordComponents()) {
        if (field.getType().isRecord()
            || List.class.isAssignableFrom(field.getType())
                && !listKeys().contains(component.getName() + "." + field.getName())) {
          continue; // nested sections and lists are set in the file
        }
        keys.put(
            ENV_PREFIX + snake(component.getName()) + "_" + snake(field.getName()),
            component.getName() + "." + field.getName());
      }
    }
    return keys;
  }

  /**
   * The list keys an environment variable may set, comma-separated: lists of plain names only (a
   * list of sections needs the file).
   */
  static List<String> listKeys() {
    return List.of("admin.allowedHosts", "sticky.keys");
  }

  private static String snake(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
  }
}
