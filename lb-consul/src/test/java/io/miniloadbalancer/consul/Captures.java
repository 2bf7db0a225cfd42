package io.miniloadbalancer.consul;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.datatype.guava.GuavaModule;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.kiwiproject.consul.model.health.ServiceHealth;

/** Real Consul 1.8.7 answers (see src/test/resources/consul-1.8.7/README.md). */
final class Captures {

  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .registerModule(new Jdk8Module())
          .registerModule(new GuavaModule())
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private Captures() {}

  static String text(String name) {
    try (InputStream in = Captures.class.getResourceAsStream("/consul-1.8.7/" + name + ".json")) {
      if (in == null) {
        throw new IllegalArgumentException("no capture " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<ServiceHealth> parse(String name) {
    return parseText(text(name));
  }

  static List<ServiceHealth> parseText(String json) {
    try {
      return MAPPER.readValue(json, new TypeReference<List<ServiceHealth>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
