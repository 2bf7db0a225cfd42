package io.miniloadbalancer.edge.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads {@link EdgeConfig} from YAML, then applies environment overrides (12-factor, for ECS).
 *
 * <p>Overrides: every scalar key of the {@code server}, {@code admin}, {@code upstream} and {@code
 * consul} sections can be set by {@code EDGE_<SECTION>_<KEY>}, the key's camelCase split by {@code
 * _} and upper-cased: {@code server.drainTimeout} is {@code EDGE_SERVER_DRAIN_TIMEOUT}, {@code
 * admin.token} is {@code EDGE_ADMIN_TOKEN}; the list {@code admin.allowedHosts} is {@code
 * EDGE_ADMIN_ALLOWED_HOSTS}, comma-separated. An unknown {@code EDGE_*} variable is an error (a
 * typo would otherwise be ignored silently). Durations are written {@code 500ms}, {@code 20s},
 * {@code 5m}, {@code 1h} or ISO-8601 ({@code PT20S}).
 *
 * <p>Every error names the key and, from a file, the line: {@code edge.yaml line 7: server.port:
 * must be in 1..65535, was 0}.
 */
final class ConfigLoader {

    static final String ENV_PREFIX = "EDGE_";
    private static final List<String> OVERRIDABLE_SECTIONS =
            List.of("server", "admin", "upstream", "consul");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    /** A configuration error: the message names the key and the line or variable. */
    static final class ConfigException extends Exception {
        private static final long serialVersionUID = 1L;

        ConfigException(String message) {
            super(message);
        }
    }

    private final ObjectMapper mapper;

    ConfigLoader() {
        SimpleModule durations = new SimpleModule();
        durations.addDeserializer(Duration.class, new DurationDeserializer());
        durations.addSerializer(
                Duration.class,
                new com.fasterxml.jackson.databind.ser.std.ToStringSerializer(Duration.class));
        mapper =
                new ObjectMapper(new YAMLFactory())
                        .registerModule(durations)
                        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    /** Loads {@code file} (or nothing, for defaults) and applies {@code env}. */
    EdgeConfig load(Path file, Map<String, String> env) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        return load(text, file.getFileName().toString(), env);
    }

    /** Loads YAML {@code text} (named {@code source} in errors) and applies {@code env}. */
    EdgeConfig load(String text, String source, Map<String, String> env) throws ConfigException {
        JsonNode tree;
        try {
            tree = text.isBlank() ? mapper.createObjectNode() : mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(describe(e, source, null));
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            tree = mapper.createObjectNode();
        }
        if (!tree.isObject()) {
            throw new ConfigException(source + ": the top level must be a mapping of sections");
        }
        Map<String, String> overrides = new TreeMap<>();
        env.forEach(
                (k, v) -> {
                    if (k.startsWith(ENV_PREFIX)) {
                        overrides.put(k, v);
                    }
                });
        // The file alone first, so its errors carry its line numbers.
        String fileError = null;
        try {
            EdgeConfig fromFile =
                    text.isBlank()
                            ? mapper.treeToValue(tree, EdgeConfig.class)
                            : mapper.readValue(text, EdgeConfig.class);
            if (overrides.isEmpty()) {
                return fromFile;
            }
        } catch (JsonProcessingException e) {
            fileError = describe(e, source, text);
            if (overrides.isEmpty()) {
                throw new ConfigException(fileError);
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
            ObjectNode sectionNode =
                    section instanceof ObjectNode on ? on : root.putObject(parts[0]);
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
            return mapper.treeToValue(root, EdgeConfig.class);
        } catch (JsonProcessingException e) {
            // An error the file alone also has is reported with its line; else the variables caused
            // it.
            String merged =
                    describe(
                            e, "environment (" + String.join(", ", overrides.keySet()) + ")", null);
            String key = merged.substring(merged.indexOf(": ") + 2);
            throw new ConfigException(
                    fileError != null && fileError.endsWith(key) ? fileError : merged);
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
                                && !listKeys()
                                        .contains(component.getName() + "." + field.getName())) {
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
        return List.of("admin.allowedHosts");
    }

    private static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    /**
     * {@code source line N: key.path: what}. The line is the key's own line when the YAML text is
     * at hand (Jackson's location is its read position, which can be the token after the key).
     */
    private static String describe(
            JsonProcessingException e, String source, @Nullable String yaml) {
        String key = "";
        int line = -1;
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            key =
                    m.getPath().stream()
                            .map(
                                    r ->
                                            r.getFieldName() != null
                                                    ? r.getFieldName()
                                                    : "[" + r.getIndex() + "]")
                            .collect(Collectors.joining("."))
                            .replace(".[", "[");
            if (yaml != null) {
                line = keyLine(yaml, m.getPath());
            }
        }
        JsonLocation at = e.getLocation();
        if (line < 0 && at != null && at.getLineNr() > 0) {
            line = at.getLineNr();
        }
        String where = line > 0 ? source + " line " + line : source;
        Throwable cause = e.getCause() instanceof IllegalArgumentException iae ? iae : null;
        String what = cause != null ? cause.getMessage() : e.getOriginalMessage();
        if (what != null) {
            int cut = what.indexOf(" (class ");
            if (cut > 0) {
                what = what.substring(0, cut);
            }
            cut = what.indexOf("\n");
            if (cut > 0) {
                what = what.substring(0, cut);
            }
        }
        return where + ": " + (key.isEmpty() ? "" : key + ": ") + what;
    }

    /**
     * The 1-based line of the key (or sequence item) at {@code path} in {@code yaml}; -1 if absent.
     */
    static int keyLine(String yaml, List<JsonMappingException.Reference> path) {
        Node node;
        try {
            node = new Yaml().compose(new StringReader(yaml));
        } catch (RuntimeException e) {
            return -1;
        }
        int line = -1;
        for (JsonMappingException.Reference ref : path) {
            if (node instanceof MappingNode map && ref.getFieldName() != null) {
                Node next = null;
                for (NodeTuple t : map.getValue()) {
                    if (t.getKeyNode() instanceof ScalarNode k
                            && k.getValue().equals(ref.getFieldName())) {
                        line = k.getStartMark().getLine() + 1;
                        next = t.getValueNode();
                        break;
                    }
                }
                if (next == null) {
                    return line;
                }
                node = next;
            } else if (node instanceof SequenceNode seq
                    && ref.getIndex() >= 0
                    && ref.getIndex() < seq.getValue().size()) {
                node = seq.getValue().get(ref.getIndex());
                line = node.getStartMark().getLine() + 1;
            } else {
                return line;
            }
        }
        return line;
    }

    /**
     * {@code 500ms}, {@code 20s}, {@code 5m}, {@code 1h} or ISO-8601; the config's one duration
     * format, also for admin query parameters.
     *
     * @throws IllegalArgumentException naming {@code what} when {@code raw} is not a duration
     */
    static Duration parseDuration(String raw, String what) {
        String text = raw.trim();
        Matcher m = DURATION.matcher(text);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(
                    what + " '" + raw + "' is not a duration like 500ms, 20s, 5m");
        }
    }

    private static final class DurationDeserializer extends JsonDeserializer<Duration> {
        @Override
        public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String raw = p.getValueAsString();
            if (raw == null) {
                throw ctxt.weirdStringException(
                        p.getText(), Duration.class, "a duration like 500ms, 20s, 5m");
            }
            try {
                return parseDuration(raw, "value");
            } catch (IllegalArgumentException e) {
                throw ctxt.weirdStringException(
                        raw, Duration.class, "not a duration like 500ms, 20s, 5m");
            }
        }
    }
}
