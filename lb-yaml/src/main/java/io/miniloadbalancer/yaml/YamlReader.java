package io.miniloadbalancer.yaml;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Reads hand-written YAML into a tree or a bound type, strictly, with errors in words.
 *
 * <p>Strict: an unknown key is an error (a typo would otherwise fall back to a default silently),
 * an empty value for a number or a flag is an error, and a file holds one document. {@link
 * Duration}s are read in the {@link Durations} syntax. Every failure is a {@link YamlException}
 * naming the source, the key's line (and column where the line holds several keys), the key path
 * and the problem: {@code t.yaml line 13: client.timeout: '800 millis' is not a duration like
 * 500ms, 20s, 5m or 1h (digits and a unit, no sign)}.
 *
 * <pre>{@code
 * YamlReader reader = YamlReader.builder().scalarCoercion(false).build();
 * Scenario s = reader.read(Files.readString(file), file.getFileName().toString(), Scenario.class);
 * }</pre>
 *
 * <p>Thread-safe once built; build one and reuse it.
 */
public final class YamlReader {

  private final ObjectMapper mapper;

  private YamlReader(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  /**
   * A builder with the strict defaults and scalar coercion on.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Parses {@code text} into a tree, for callers that add to it before binding.
   *
   * @param text the YAML
   * @param source the document's name in errors, e.g. {@code edge.yaml}
   * @return the tree; a missing node for an empty document
   * @throws YamlException when {@code text} is not valid YAML
   */
  public JsonNode readTree(String text, String source) throws YamlException {
    try {
      JsonNode tree = mapper.readTree(text);
      return tree == null ? mapper.missingNode() : tree;
    } catch (JsonProcessingException e) {
      throw error(e, text, source);
    }
  }

  /**
   * Binds {@code text} to {@code type}.
   *
   * @param text the YAML
   * @param source the document's name in errors
   * @param type a record or bean type
   * @param <T> the type
   * @return the value; null for an empty document
   * @throws YamlException naming the key and its line when {@code text} does not fit {@code type}
   */
  public <T> @Nullable T read(String text, String source, Class<T> type) throws YamlException {
    try {
      return mapper.readValue(text, type);
    } catch (JsonProcessingException e) {
      throw error(e, text, source);
    }
  }

  /**
   * Binds a tree (one that {@link #readTree} gave, perhaps with additions) to {@code type}.
   *
   * @param tree the document
   * @param source the document's name in errors, e.g. {@code environment (EDGE_SERVER_PORT)}
   * @param type a record or bean type
   * @param <T> the type
   * @return the value
   * @throws YamlException naming the key when the tree does not fit (no line: a tree has none)
   */
  public <T> T convert(JsonNode tree, String source, Class<T> type) throws YamlException {
    try {
      return Objects.requireNonNull(mapper.treeToValue(tree, type), "treeToValue");
    } catch (JsonProcessingException e) {
      throw error(e, null, source);
    }
  }

  /**
   * An error a caller found itself (a check across sections), placed like the reader's own.
   *
   * @param text the YAML the value came from
   * @param source the document's name
   * @param path the key the error is about; an absent key is placed at its nearest written parent
   * @param problem what is wrong, in words
   * @return the exception to throw
   */
  public YamlException error(String text, String source, KeyPath path, String problem) {
    KeyLocations places = KeyLocations.of(mapper.getFactory(), text);
    KeyLocations.Place at = places.find(path);
    return at == null
        ? new YamlException(source, 0, 0, false, path.toString(), problem)
        : new YamlException(
            source, at.line(), at.column(), places.columnNeeded(at), path.toString(), problem);
  }

  private YamlException error(JsonProcessingException e, @Nullable String text, String source) {
    ProblemWords.Words words = ProblemWords.describe(e);
    if (text != null && !words.path().isRoot()) {
      YamlException located = error(text, source, words.path(), words.problem());
      if (located.line() > 0) {
        return located;
      }
    }
    // No key to look up (a syntax error) or no text: where the parser stopped.
    JsonLocation at = e.getLocation();
    int line = at != null && text != null ? Math.max(at.getLineNr(), 0) : 0;
    int column = line > 0 ? Math.max(at.getColumnNr(), 0) : 0;
    boolean showColumn =
        line > 0
            && KeyLocations.of(mapper.getFactory(), text)
                .columnNeeded(new KeyLocations.Place(line, column));
    return new YamlException(
        source, line, column, showColumn, words.path().toString(), words.problem());
  }

  /** Settings that differ between documents; everything else is fixed and strict. */
  public static final class Builder {

    private final SimpleModule module = new SimpleModule("lb-yaml");
    private boolean scalarCoercion = true;

    private Builder() {
      module.addDeserializer(Duration.class, new DurationDeserializer());
    }

    /**
     * Whether a quoted scalar may fill a number or flag ({@code port: "80"}), and the other way
     * round. On by default: values that come from environment variables are all text.
     *
     * @param allowed false to demand the YAML type itself
     * @return this builder
     */
    public Builder scalarCoercion(boolean allowed) {
      this.scalarCoercion = allowed;
      return this;
    }

    /**
     * Reads values of {@code type} with {@code deserializer}; its failures become errors naming the
     * key. A {@link JsonMappingException} it throws should say what is wrong in words.
     *
     * @param type the type
     * @param deserializer how to read it
     * @param <T> the type
     * @return this builder
     */
    public <T> Builder deserializer(Class<T> type, JsonDeserializer<? extends T> deserializer) {
      module.addDeserializer(type, deserializer);
      return this;
    }

    /**
     * The reader.
     *
     * @return a reader with these settings
     */
    public YamlReader build() {
      JsonMapper.Builder b =
          JsonMapper.builder(new YAMLFactory())
              .addModule(module)
              .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
              .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
              .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
      if (!scalarCoercion) {
        b.disable(MapperFeature.ALLOW_COERCION_OF_SCALARS);
      }
      return new YamlReader(b.build());
    }
  }

  private static final class DurationDeserializer extends JsonDeserializer<Duration> {
    @Override
    public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      String raw = p.currentToken().isScalarValue() ? p.getValueAsString() : null;
      if (raw == null) {
        throw JsonMappingException.from(p, "expected " + Durations.SYNTAX);
      }
      try {
        return Durations.parse(raw);
      } catch (IllegalArgumentException e) {
        throw JsonMappingException.from(p, e.getMessage(), e);
      }
    }
  }
}
