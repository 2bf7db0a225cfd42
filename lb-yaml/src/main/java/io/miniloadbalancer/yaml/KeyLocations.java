package io.miniloadbalancer.yaml;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Where each key and list item of a YAML text starts, for errors that name the key's own line.
 *
 * <p>Why not the location Jackson reports with an error: that is where the parser stood when it
 * gave up, which for a record checked as a whole is the line after it, and for an unknown key whose
 * value is a block, the block's first line. The key's start is what the writer looks for.
 */
final class KeyLocations {

  /** 1-based line and column. */
  record Place(int line, int column) {}

  private final String[] lines;
  private final Map<String, Place> places;

  private KeyLocations(String text, Map<String, Place> places) {
    this.lines = text.split("\r?\n|\r", -1);
    this.places = places;
  }

  /** Indexes {@code text}; a text that does not parse indexes as far as it gets. */
  static KeyLocations of(JsonFactory yaml, String text) {
    Map<String, Place> places = new HashMap<>();
    try (JsonParser p = yaml.createParser(text)) {
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        // A key is indexed at its name; a list item at its value's first token. Closing
        // tokens stand after the value and would give the wrong line.
        if (t.isStructEnd()) {
          continue;
        }
        JsonStreamContext where = p.getParsingContext();
        if (t.isStructStart()) {
          where = where.getParent();
        }
        if (t != JsonToken.FIELD_NAME && (where == null || !where.inArray())) {
          continue;
        }
        JsonLocation at = p.currentTokenLocation();
        places.putIfAbsent(
            where.pathAsPointer().toString(), new Place(at.getLineNr(), at.getColumnNr()));
      }
    } catch (IOException | RuntimeException e) {
      // A syntax error: what was indexed before it still locates keys above it.
    }
    return new KeyLocations(text, places);
  }

  /**
   * The place of {@code path}, or of its nearest written parent when it is absent (a key left out,
   * so defaulted, is reported where its parent is written); null when none is written.
   */
  @Nullable Place find(KeyPath path) {
    List<KeyPath> candidates = path.selfAndParents();
    for (KeyPath candidate : candidates) {
      Place p = places.get(candidate.pointer().toString());
      if (p != null) {
        return p;
      }
    }
    return null;
  }

  /**
   * Whether a message needs the column to point at {@code place}: not when it is the first thing on
   * its line after indentation and list dashes (block style, where the line says it all), yes when
   * other keys stand before it (flow style, {@code - {at: 5s, backend: b7}}).
   */
  boolean columnNeeded(Place place) {
    if (place.line() < 1 || place.line() > lines.length || place.column() < 2) {
      return false;
    }
    String line = lines[place.line() - 1];
    String before = line.substring(0, Math.min(place.column() - 1, line.length()));
    return !before.replace('-', ' ').isBlank();
  }
}
