package io.miniloadbalancer.benchmarks.replay;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import io.miniloadbalancer.yaml.KeyPath;
import io.miniloadbalancer.yaml.YamlException;
import io.miniloadbalancer.yaml.YamlReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads a {@link Scenario} from YAML with lb-yaml's {@link YamlReader}. Every error names the file,
 * the line and the key: {@code slow.yaml line 14: faults[0].for: required for slow} (and the column
 * where the line holds several keys, as a flow-style fault does). Unknown keys are errors (a typo
 * would otherwise silently fall back to a default), and so is a quoted number ({@code rate: "5"}).
 * Durations are written {@code 300ms}, {@code 2s}, {@code 1m} ({@link
 * io.miniloadbalancer.yaml.Durations}).
 */
public final class ScenarioLoader {

  /** A scenario file that cannot be used; the message names the file, line and key. */
  public static final class ScenarioException extends Exception {
    private static final long serialVersionUID = 1L;

    ScenarioException(String message) {
      super(message);
    }
  }

  private final YamlReader yaml;

  /** A loader; reusable and thread-safe. */
  public ScenarioLoader() {
    yaml =
        YamlReader.builder()
            .scalarCoercion(false)
            .deserializer(Scenario.Action.class, new ActionDeserializer())
            .build();
  }

  /** Reads and checks {@code file}. */
  public Scenario load(Path file) throws ScenarioException {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new ScenarioException("cannot read scenario file " + file + ": " + e.getMessage());
    }
    return load(text, file.getFileName().toString());
  }

  /** Reads and checks YAML {@code text}, named {@code source} in errors. */
  public Scenario load(String text, String source) throws ScenarioException {
    Scenario scenario;
    try {
      scenario = yaml.read(text, source, Scenario.class);
    } catch (YamlException e) {
      throw new ScenarioException(e.getMessage());
    }
    if (scenario == null) {
      throw new ScenarioException(source + ": empty scenario");
    }
    crossCheck(scenario, text, source);
    return scenario;
  }

  /** Checks that need more than one section: fault targets and times. */
  private void crossCheck(Scenario s, String text, String source) throws ScenarioException {
    int backends = s.backendCount();
    for (int i = 0; i < s.faults().size(); i++) {
      Scenario.Fault f = s.faults().get(i);
      KeyPath key = KeyPath.root().key("faults").index(i);
      int index = backendIndex(f.backend());
      if (index < 0 || index >= backends) {
        throw error(
            text,
            source,
            key.key("backend"),
            "no backend '"
                + f.backend()
                + "'; this scenario has b0.."
                + Scenario.backendId(backends - 1));
      }
      if (f.at().compareTo(s.duration()) >= 0) {
        throw error(
            text,
            source,
            key.key("at"),
            "must be before the end of the run (" + s.duration() + "), was " + f.at());
      }
    }
    for (int i = 0; i < s.runs().size(); i++) {
      Scenario.Run r = s.runs().get(i);
      if (!r.hysteresis() && s.client().healthCheck() == null && !s.client().outlierDetection()) {
        throw error(
            text,
            source,
            KeyPath.root().key("runs").index(i).key("hysteresis"),
            "false needs client.healthCheck or client.outlierDetection: there is"
                + " nothing to damp");
      }
    }
  }

  private static int backendIndex(String id) {
    if (id.length() < 2 || id.charAt(0) != 'b') {
      return -1;
    }
    try {
      return Integer.parseInt(id.substring(1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private ScenarioException error(String text, String source, KeyPath key, String message) {
    return new ScenarioException(yaml.error(text, source, key, message).getMessage());
  }

  private static final class ActionDeserializer extends JsonDeserializer<Scenario.Action> {
    @Override
    public Scenario.Action deserialize(JsonParser p, DeserializationContext ctxt)
        throws IOException {
      String raw = p.getValueAsString();
      try {
        return Scenario.Action.valueOf(raw.trim().toUpperCase(Locale.ROOT));
      } catch (RuntimeException e) {
        throw JsonMappingException.from(
            p, "'" + raw + "' is not one of kill, revive, slow, errors, flap, drain");
      }
    }
  }
}
