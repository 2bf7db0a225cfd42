package io.miniloadbalancer.edge.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The configuration room's door: YAML from a file or a text, then the {@code EDGE_*} environment
 * overrides, validated into an {@link EdgeConfig}. Every error names the key and, from a file, the
 * line ({@code edge.yaml line 7: server.port: must be in 1..65535, was 0}).
 */
public final class ConfigFiles {

  private ConfigFiles() {}

  /**
   * Loads {@code file} and applies {@code env}.
   *
   * @param file the YAML file
   * @param env the process environment; only {@code EDGE_*} variables are read
   * @return the validated configuration
   * @throws InvalidConfigException naming the key and line, or the variable, that is wrong
   */
  public static EdgeConfig load(Path file, Map<String, String> env) throws InvalidConfigException {
    try {
      return checked(new ConfigLoader().load(file, env));
    } catch (ConfigLoader.ConfigException e) {
      throw new InvalidConfigException(e);
    }
  }

  /**
   * Loads YAML {@code text} and applies {@code env}.
   *
   * @param text the YAML text (blank: every default)
   * @param source the text's name in error messages
   * @param env the process environment; only {@code EDGE_*} variables are read
   * @return the validated configuration
   * @throws InvalidConfigException naming the key and line, or the variable, that is wrong
   */
  public static EdgeConfig parse(String text, String source, Map<String, String> env)
      throws InvalidConfigException {
    try {
      return checked(new ConfigLoader().load(text, source, env));
    } catch (ConfigLoader.ConfigException e) {
      throw new InvalidConfigException(e);
    }
  }

  /**
   * Refuses a configuration with no pools: a proxy with nothing to serve answers every request 404,
   * which is never what its operator meant.
   *
   * @param config a loaded configuration
   * @throws InvalidConfigException when {@code pools} is empty
   */
  public static void requirePools(EdgeConfig config) throws InvalidConfigException {
    if (config.pools().isEmpty()) {
      throw new InvalidConfigException(
          new IllegalArgumentException(
              "no pools configured: add at least one pool under 'pools' (or run with --demo)"));
    }
  }

  /** What the file's sections cannot check alone: the sticky keys' strength. */
  private static EdgeConfig checked(EdgeConfig config) throws InvalidConfigException {
    List<String> keys = config.sticky().keys();
    for (int i = 0; i < keys.size(); i++) {
      if (keys.get(i) == null || keys.get(i).length() < 32) {
        throw new InvalidConfigException(
            new IllegalArgumentException(
                "sticky.keys["
                    + i
                    + "]: must be at least 32 characters (a shared secret, e.g. from openssl rand"
                    + " -base64 32)"));
      }
    }
    return config;
  }
}
