package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EndpointTest {

  @Test
  void rejectsBadValuesNamingTheField() {
    assertThatThrownBy(() -> Endpoint.of("a", "h", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("port")
        .hasMessageContaining("'a'");
    assertThatThrownBy(() -> Endpoint.of("a", "h", 65_536)).hasMessageContaining("port");
    assertThatThrownBy(() -> Endpoint.of("a", " ", 80))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("host");
    assertThatThrownBy(() -> Endpoint.of("", "h", 80)).hasMessageContaining("id");
    assertThatThrownBy(() -> Endpoint.of("a", "h", 80).withWeight(0))
        .hasMessageContaining("weight");
    assertThatThrownBy(() -> Endpoint.of("a", "h", 80).withWeight(Endpoint.MAX_WEIGHT + 1))
        .hasMessageContaining("weight");
    assertThatThrownBy(() -> new Endpoint("a", null, 80, 1, "", Map.of()))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("host");
  }

  @Test
  void isImmutableAndEqualityCoversEveryField() {
    Map<String, String> meta = new HashMap<>(Map.of("k", "v"));
    Endpoint e = Endpoint.of("a", "10.0.0.1", 80).withMetadata(meta);
    meta.put("k", "changed");
    assertThat(e.metadata()).containsEntry("k", "v");
    assertThat(e).isEqualTo(Endpoint.of("a", "10.0.0.1", 80).withMetadata(Map.of("k", "v")));
    assertThat(e.withWeight(2)).isNotEqualTo(e);
    assertThat(e.withZone("z")).isNotEqualTo(e);
  }

  @Test
  void authorityBracketsIpv6() {
    assertThat(Endpoint.of("a", "::1", 80).authority()).isEqualTo("[::1]:80");
    assertThat(Endpoint.of("a", "localhost", 80).authority()).isEqualTo("localhost:80");
  }
}
