package io.miniloadbalancer.yaml;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Jackson's errors in the words of the YAML the user wrote: {@code expected a whole number, was
 * "80x"} rather than {@code Cannot deserialize value of type `int` from String "80x"}.
 */
final class ProblemWords {

  /** A check of the record itself, naming its own field: "for: required", "rate must be ...". */
  private static final Pattern OWN_FIELD = Pattern.compile("([a-zA-Z0-9]+)(: | must )(.*)");

  /** What Jackson's message says it found, for a mismatch that carries no value. */
  private static final Pattern FOUND =
      Pattern.compile(
          "from (Object value|Array value|String \"[^\"]*\"|Boolean value|Number value"
              + "|Integer value|Floating-point value)");

  /** A scalar refused because coercion is off: {@code Cannot coerce String value ("80") to}. */
  private static final Pattern COERCE =
      Pattern.compile("^Cannot coerce (\\w+) value \\((.*?)\\) to");

  /** A Java type Jackson names in backquotes: never shown. */
  private static final Pattern JAVA_NAME = Pattern.compile("`[\\w.$<>\\[\\], ]+`");

  /** The key path and the problem in words. */
  record Words(KeyPath path, String problem) {}

  private ProblemWords() {}

  static Words describe(JsonProcessingException e) {
    KeyPath path = e instanceof JsonMappingException m ? KeyPath.of(m) : KeyPath.root();
    String problem = problem(e);
    // A record's own check names its field, but Jackson's path ends at the record: the field
    // joins the key, so the line lookup finds the field's own line.
    Matcher field = OWN_FIELD.matcher(problem);
    if (field.matches()) {
      if (!path.lastKey().equals(field.group(1))) {
        path = path.key(field.group(1));
      }
      problem = field.group(2).equals(": ") ? field.group(3) : "must " + field.group(3);
    }
    return new Words(path, problem);
  }

  private static String problem(JsonProcessingException e) {
    Throwable cause = e.getCause();
    if (cause instanceof MarkedYAMLException yaml && yaml.getProblem() != null) {
      return "not valid YAML: " + yaml.getProblem();
    }
    if (e instanceof UnrecognizedPropertyException u) {
      String suggestion = closest(u.getPropertyName(), u.getKnownPropertyIds());
      return "Unrecognized field \""
          + u.getPropertyName()
          + "\""
          + (suggestion == null ? "" : " (did you mean \"" + suggestion + "\"?)")
          + "; the keys here are "
          + u.getKnownPropertyIds().stream()
              .map(String::valueOf)
              .sorted()
              .collect(Collectors.joining(", "));
    }
    String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
    if (original.startsWith("Trailing token")) {
      return "more than one YAML document; the file must hold exactly one";
    }
    if (original.startsWith("No content to map")) {
      return "the document is empty";
    }
    if (e instanceof InvalidFormatException f && f.getTargetType() != null) {
      return "expected " + expected(f.getTargetType()) + ", was " + shown(f.getValue());
    }
    if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
      return "expected " + expected(m.getTargetType()) + found(original);
    }
    if (cause instanceof NullPointerException && cause.getMessage() != null) {
      return cause.getMessage() + ": required"; // requireNonNull(x, "x") in a record
    }
    if (cause instanceof IllegalArgumentException && cause.getMessage() != null) {
      return cause.getMessage(); // a record's own check, already in words
    }
    return plain(original);
  }

  /**
   * The known key nearest to a typo: at most 2 edits away (insert, delete, substitute, or swap two
   * neighbours: the optimal string alignment distance), and fewer edits than the typo has
   * characters; the first in sorted order on a tie. Null when none is that near.
   */
  static @Nullable String closest(String typed, Collection<?> known) {
    String best = null;
    int bestDistance = 3;
    for (String k : known.stream().map(String::valueOf).sorted().toList()) {
      int d = distance(typed, k);
      if (d < bestDistance && d < typed.length()) {
        best = k;
        bestDistance = d;
      }
    }
    return best;
  }

  /** Damerau-Levenshtein distance (optimal string alignment), case-sensitive. */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  /** What a value of {@code type} looks like in YAML. */
  static String expected(Class<?> type) {
    Class<?> t = type.isPrimitive() ? boxed(type) : type;
    if (t == Integer.class
        || t == Long.class
        || t == Short.class
        || t == Byte.class
        || t == BigInteger.class) {
      return "a whole number";
    }
    if (Number.class.isAssignableFrom(t)) {
      return "a number";
    }
    if (t == Boolean.class) {
      return "true or false";
    }
    if (t == String.class || t == Character.class) {
      return "a text value";
    }
    if (t == Duration.class) {
      return Durations.SYNTAX;
    }
    if (t.isEnum()) {
      return "one of "
          + Arrays.stream(t.getEnumConstants())
              .map(String::valueOf)
              .collect(Collectors.joining(", "));
    }
    if (t.isArray() || Collection.class.isAssignableFrom(t)) {
      return "a list";
    }
    return Map.class.isAssignableFrom(t) || t.isRecord() ? "a mapping of keys" : "a value";
  }

  private static Class<?> boxed(Class<?> primitive) {
    return switch (primitive.getName()) {
      case "int" -> Integer.class;
      case "long" -> Long.class;
      case "short" -> Short.class;
      case "byte" -> Byte.class;
      case "double" -> Double.class;
      case "float" -> Float.class;
      case "boolean" -> Boolean.class;
      case "char" -> Character.class;
      default -> Object.class;
    };
  }

  private static String shown(@Nullable Object value) {
    return value == null ? "empty" : "\"" + value + "\"";
  }

  private static String found(String original) {
    if (original.startsWith("Cannot map `null`")) {
      return ", was empty";
    }
    Matcher coerce = COERCE.matcher(original);
    if (coerce.find()) {
      return ", was " + coerce.group(2);
    }
    Matcher m = FOUND.matcher(original);
    if (!m.find()) {
      return "";
    }
    String what = m.group(1);
    if (what.startsWith("String ")) {
      return ", was " + what.substring("String ".length());
    }
    return switch (what) {
      case "Object value" -> ", was a mapping";
      case "Array value" -> ", was a list";
      case "Boolean value" -> ", was true or false";
      default -> ", was a number";
    };
  }

  /** Any other message: its first line, without the Java types it names. */
  private static String plain(String original) {
    String what = original;
    int cut = what.indexOf('\n');
    if (cut > 0) {
      what = what.substring(0, cut);
    }
    cut = what.indexOf(" (class ");
    if (cut > 0) {
      what = what.substring(0, cut);
    }
    return JAVA_NAME.matcher(what).replaceAll("a value").strip();
  }
}
