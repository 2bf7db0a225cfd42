package io.miniloadbalancer.yaml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;

class YamlReaderTest {

  enum Mode {
    FAST,
    SAFE
  }

  record Item(String host, Integer port) {
    Item {
      if (port == null) {
        throw new IllegalArgumentException("port is required");
      }
    }
  }

  record Fault(Duration at, String backend, Double rate) {
    Fault {
      Objects.requireNonNull(backend, "backend");
      if (rate != null && rate > 1) {
        throw new IllegalArgumentException("rate must be in [0, 1], was " + rate);
      }
    }
  }

  record Doc(
      Integer port,
      Boolean on,
      Double share,
      Duration timeout,
      Mode mode,
      Map<String, Item> pools,
      List<Item> items,
      List<Fault> faults) {}

  private final YamlReader reader = YamlReader.builder().build();

  @Test
  void bindsTypesAndDurations() throws YamlException {
    Doc d =
        reader.read(
            "port: 80\non: true\nshare: 0.5\ntimeout: 300ms\nmode: SAFE\n"
                + "items:\n  - {host: a, port: 1}\n",
            "t.yaml",
            Doc.class);
    assertThat(d).isNotNull();
    assertThat(d.port()).isEqualTo(80);
    assertThat(d.timeout()).isEqualTo(Duration.ofMillis(300));
    assertThat(d.mode()).isEqualTo(Mode.SAFE);
    assertThat(d.items()).containsExactly(new Item("a", 1));
  }

  @Test
  void wrongScalarsAreNamedInWordsNeverAsJavaTypes() {
    assertError("port: 0x\n", "t.yaml line 1: port: expected a whole number, was \"0x\"");
    assertError("port: {a: 1}\n", "t.yaml line 1: port: expected a whole number, was a mapping");
    assertError("port: [1]\n", "t.yaml line 1: port: expected a whole number, was a list");
    assertError("on: maybe\n", "t.yaml line 1: on: expected true or false, was \"maybe\"");
    assertError("share: half\n", "t.yaml line 1: share: expected a number, was \"half\"");
    assertError("items: 3\n", "t.yaml line 1: items: expected a list, was a number");
    assertError("mode: slow\n", "t.yaml line 1: mode: expected one of FAST, SAFE, was \"slow\"");
    assertError(
        "timeout: 800 millis\n",
        "t.yaml line 1: timeout: '800 millis' is not a duration like 500ms, 20s, 5m or 1h"
            + " (digits and a unit, no sign)");
    assertError(
        "timeout: {a: 1}\n",
        "t.yaml line 1: timeout: expected a duration like 500ms, 20s, 5m or 1h");
  }

  @Test
  void anUnknownKeyIsAnErrorOnItsOwnLineWithTheKnownKeys() {
    assertError(
        "port: 80\npools:\n  api:\n    host: a\n    prot: 2\n",
        "t.yaml line 3: pools.api: port is required");
    assertError(
        "port: 80\ntls:\n  cert: x\n",
        "t.yaml line 2: tls: Unrecognized field \"tls\"; the keys here are faults, items,"
            + " mode, on, pools, port, share, timeout");
  }

  @Test
  void aTypoGetsTheNearestKnownKeyWithinTwoEdits() {
    assertError(
        "prot: 80\n",
        "t.yaml line 1: prot: Unrecognized field \"prot\" (did you mean \"port\"?); the keys here"
            + " are faults, items, mode, on, pools, port, share, timeout");
    assertError(
        "timout: 1s\n",
        "t.yaml line 1: timout: Unrecognized field \"timout\" (did you mean \"timeout\"?); the"
            + " keys here are faults, items, mode, on, pools, port, share, timeout");
    // A swap of two neighbours is one edit (Damerau), three edits are too far.
    assertThat(ProblemWords.distance("sahre", "share")).isEqualTo(1);
    assertThat(ProblemWords.closest("sahre", List.of("share", "port"))).isEqualTo("share");
    assertThat(ProblemWords.closest("drainTimout", List.of("drainTimeout", "idleTimeout")))
        .isEqualTo("drainTimeout");
    assertThat(ProblemWords.closest("xyzzy", List.of("share", "port"))).isNull();
  }

  @Test
  void aRecordsOwnCheckIsPlacedAtItsFieldAndTheColumnOnlyWhereTheLineIsShared() {
    String faults = "faults:\n  - {at: 1s, backend: b0}\n  - {at: 2s, backend: b1, rate: 2}\n";
    assertError(faults, "t.yaml line 3, column 27: faults[1].rate: must be in [0, 1], was 2.0");
    // A missing key is placed at its item, the first thing on its line: no column.
    assertError("faults:\n  - {at: 1s}\n", "t.yaml line 2: faults[0].backend: required");
    // Block style: the key starts its line.
    assertError(
        "faults:\n  - at: 1s\n    backend: b0\n    rate: 3\n",
        "t.yaml line 4: faults[0].rate: must be in [0, 1], was 3.0");
  }

  @Test
  void theExceptionKeepsItsParts() {
    YamlException e = assertThrows("items:\n  - {host: a, port: 1}\n  - {host: b, port: x}\n");
    assertThat(e.source()).isEqualTo("t.yaml");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.column()).isEqualTo(15);
    assertThat(e.keyPath()).isEqualTo("items[1].port");
    assertThat(e.problem()).isEqualTo("expected a whole number, was \"x\"");
    assertThat(e)
        .hasMessage(
            "t.yaml line 3, column 15: items[1].port: expected a whole number, was" + " \"x\"");
  }

  @Test
  void syntaxErrorsAndSecondDocumentsAndEmptyFiles() {
    assertThat(assertThrows("port: 'abc\n").getMessage())
        .startsWith("t.yaml line ")
        .contains(": not valid YAML: ")
        .doesNotContain("\n", "snakeyaml", "Exception");
    assertError(
        "port: 1\n---\nport: 2\n",
        "t.yaml line 3: more than one YAML document; the file must hold exactly one");
    assertError("", "t.yaml line 1: the document is empty");
  }

  @Test
  void scalarCoercionIsAChoice() throws YamlException {
    assertThat(reader.read("port: \"80\"\n", "t.yaml", Doc.class).port()).isEqualTo(80);
    YamlReader strict = YamlReader.builder().scalarCoercion(false).build();
    assertThatThrownBy(() -> strict.read("port: \"80\"\n", "t.yaml", Doc.class))
        .isInstanceOf(YamlException.class)
        .hasMessage("t.yaml line 1: port: expected a whole number, was \"80\"");
  }

  @Test
  void treesConvertWithTheKeyButNoLine() throws YamlException {
    JsonNode tree = reader.readTree("port: 80\n", "t.yaml");
    ((ObjectNode) tree).put("port", "eighty");
    assertThatThrownBy(() -> reader.convert(tree, "environment (PORT)", Doc.class))
        .isInstanceOf(YamlException.class)
        .hasMessage("environment (PORT): port: expected a whole number, was \"eighty\"");
    assertThat(reader.readTree("", "t.yaml").isMissingNode()).isTrue();
    assertThatThrownBy(() -> reader.readTree("a: [1\n", "t.yaml"))
        .hasMessageContaining("not valid YAML");
  }

  @Test
  void callersPlaceTheirOwnChecksTheSameWay() {
    String text = "faults:\n  - {at: 1s, backend: b0}\n  - {at: 2s, backend: b7}\n";
    KeyPath backend = KeyPath.root().key("faults").index(1).key("backend");
    assertThat(reader.error(text, "t.yaml", backend, "no backend 'b7'"))
        .hasMessage("t.yaml line 3, column 14: faults[1].backend: no backend 'b7'");
    KeyPath absent = KeyPath.root().key("faults").index(0).key("period");
    assertThat(reader.error(text, "t.yaml", absent, "required"))
        .hasMessage("t.yaml line 2: faults[0].period: required");
    assertThat(reader.error(text, "t.yaml", KeyPath.root().key("nowhere"), "x"))
        .hasMessage("t.yaml: nowhere: x");
  }

  @Test
  void customDeserializersReportInTheirOwnWords() {
    YamlReader r =
        YamlReader.builder()
            .deserializer(
                Mode.class,
                new JsonDeserializer<Mode>() {
                  @Override
                  public Mode deserialize(JsonParser p, DeserializationContext ctxt)
                      throws IOException {
                    String raw = p.getValueAsString();
                    try {
                      return Mode.valueOf(raw.toUpperCase(Locale.ROOT));
                    } catch (IllegalArgumentException e) {
                      throw JsonMappingException.from(p, "'" + raw + "' is not fast or safe");
                    }
                  }
                })
            .build();
    assertThatThrownBy(() -> r.read("port: 1\nmode: slow\n", "t.yaml", Doc.class))
        .hasMessage("t.yaml line 2: mode: 'slow' is not fast or safe");
  }

  private void assertError(String yaml, String message) {
    assertThat(assertThrows(yaml)).hasMessage(message);
  }

  private YamlException assertThrows(String yaml) {
    try {
      reader.read(yaml, "t.yaml", Doc.class);
    } catch (YamlException e) {
      return e;
    }
    throw new AssertionError("no error for: " + yaml);
  }
}
