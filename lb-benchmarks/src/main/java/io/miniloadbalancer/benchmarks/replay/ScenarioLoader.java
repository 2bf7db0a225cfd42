package io.miniloadbalancer.benchmarks.replay;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads a {@link Scenario} from YAML. Every error names the file, the line and the key: {@code
 * slow.yaml line 14: faults[0].for: required for slow}. Unknown keys are errors (a typo would
 * otherwise silently fall back to a default). Durations are written {@code 300ms}, {@code 2s},
 * {@code 1m}.
 */
public final class ScenarioLoader {

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m)");
    private static final Pattern OWN_FIELD = Pattern.compile("([a-zA-Z0-9]+)(: | must )(.*)");

    /** A scenario file that cannot be used; the message names the file, line and key. */
    public static final class ScenarioException extends Exception {
        private static final long serialVersionUID = 1L;

        ScenarioException(String message) {
            super(message);
        }
    }

    private final ObjectMapper mapper;

    /** A loader; reusable and thread-safe. */
    public ScenarioLoader() {
        SimpleModule module = new SimpleModule();
        module.addDeserializer(Duration.class, new DurationDeserializer());
        module.addDeserializer(Scenario.Action.class, new ActionDeserializer());
        mapper =
                JsonMapper.builder(new YAMLFactory())
                        .addModule(module)
                        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                        .build();
    }

    /** Reads and checks {@code file}. */
    public Scenario load(Path file) throws ScenarioException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ScenarioException(
                    "cannot read scenario file " + file + ": " + e.getMessage());
        }
        return load(text, file.getFileName().toString());
    }

    /** Reads and checks YAML {@code text}, named {@code source} in errors. */
    public Scenario load(String text, String source) throws ScenarioException {
        Scenario scenario;
        try {
            scenario = mapper.readValue(text, Scenario.class);
        } catch (JsonProcessingException e) {
            throw new ScenarioException(describe(e, text, source));
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
            String key = "faults[" + i + "]";
            int index = backendIndex(f.backend());
            if (index < 0 || index >= backends) {
                throw error(
                        text,
                        source,
                        key + ".backend",
                        "no backend '"
                                + f.backend()
                                + "'; this scenario has b0.."
                                + Scenario.backendId(backends - 1));
            }
            if (f.at().compareTo(s.duration()) >= 0) {
                throw error(
                        text,
                        source,
                        key + ".at",
                        "must be before the end of the run (" + s.duration() + "), was " + f.at());
            }
        }
        for (int i = 0; i < s.runs().size(); i++) {
            Scenario.Run r = s.runs().get(i);
            if (!r.hysteresis()
                    && s.client().healthCheck() == null
                    && !s.client().outlierDetection()) {
                throw error(
                        text,
                        source,
                        "runs[" + i + "].hysteresis",
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

    private ScenarioException error(String text, String source, String key, String message) {
        int line = lineOf(text, key);
        String where = line > 0 ? source + " line " + line : source;
        return new ScenarioException(where + ": " + key + ": " + message);
    }

    /** The line of {@code key} (as {@code faults[2].backend}) in the YAML, or 0 when not found. */
    int lineOf(String text, String key) {
        Map<String, Integer> lines = new HashMap<>();
        try (JsonParser p = mapper.getFactory().createParser(text)) {
            while (p.nextToken() != null) {
                lines.putIfAbsent(
                        p.getParsingContext().pathAsPointer().toString(),
                        p.currentLocation().getLineNr());
            }
        } catch (IOException e) {
            return 0;
        }
        String pointer = "/" + key.replace("[", "/").replace("]", "").replace(".", "/");
        // A key left out (so defaulted) is reported at its nearest written parent.
        for (String k = pointer; !k.isEmpty(); k = k.substring(0, k.lastIndexOf('/'))) {
            Integer line = lines.get(k);
            if (line != null) {
                return line;
            }
        }
        return 0;
    }

    private String describe(JsonProcessingException e, String text, String source) {
        String key = "";
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
        }
        Throwable cause = e.getCause();
        String what =
                cause instanceof IllegalArgumentException || cause instanceof NullPointerException
                        ? cause.getMessage()
                        : e.getOriginalMessage();
        if (what != null) {
            // Jackson's messages name Java classes; the user wrote YAML.
            int cut = what.indexOf(" (class ");
            if (cut > 0) {
                what = what.substring(0, cut);
            }
            cut = what.indexOf("\n");
            if (cut > 0) {
                what = what.substring(0, cut);
            }
            if (cause instanceof NullPointerException) {
                what = what + ": required";
            }
        }
        // A record's own check starts with its field ("for: required", "rate must be ..."); the
        // path
        // ends at the record, so the field joins the key.
        Matcher field = what == null ? null : OWN_FIELD.matcher(what);
        if (field != null && field.matches()) {
            if (!key.endsWith(field.group(1))) {
                key = key.isEmpty() ? field.group(1) : key + "." + field.group(1);
            }
            what = field.group(2).equals(": ") ? field.group(3) : "must " + field.group(3);
        }
        // The parser stands after the value it failed on: for a record checked at its end that is
        // the next line, so the key's own line is preferred when it can be found.
        int line = key.isEmpty() ? 0 : lineOf(text, key);
        JsonLocation at = e.getLocation();
        if (line == 0 && at != null) {
            line = at.getLineNr();
        }
        String where = line > 0 ? source + " line " + line : source;
        return where + ": " + (key.isEmpty() ? "" : key + ": ") + what;
    }

    /** {@code 300ms}, {@code 2s}, {@code 1m}, or ISO-8601. */
    static Duration parseDuration(String raw) {
        String text = raw.trim();
        Matcher m = DURATION.matcher(text);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMinutes(n);
            };
        }
        return Duration.parse(text);
    }

    private static final class DurationDeserializer extends JsonDeserializer<Duration> {
        @Override
        public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String raw = p.currentToken().isScalarValue() ? p.getValueAsString() : null;
            if (raw == null) {
                throw JsonMappingException.from(p, "not a duration like 300ms, 2s, 1m");
            }
            try {
                return parseDuration(raw);
            } catch (RuntimeException e) {
                throw JsonMappingException.from(
                        p, "'" + raw + "' is not a duration like 300ms, 2s, 1m");
            }
        }
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
