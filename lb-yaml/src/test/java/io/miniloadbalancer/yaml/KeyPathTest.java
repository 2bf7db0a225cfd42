package io.miniloadbalancer.yaml;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KeyPathTest {

  @Test
  void writtenAsAPersonWouldWriteIt() {
    KeyPath p = KeyPath.root().key("faults").index(2).key("backend");
    assertThat(p).hasToString("faults[2].backend");
    assertThat(p.lastKey()).isEqualTo("backend");
    assertThat(KeyPath.root().key("faults").index(2).lastKey()).isEmpty();
    assertThat(KeyPath.root()).hasToString("");
    assertThat(KeyPath.root().isRoot()).isTrue();
  }

  @Test
  void aKeyWithDotsOrSlashesStaysOneStep() {
    KeyPath p = KeyPath.root().key("pools").key("a.b/c");
    assertThat(p.pointer().toString()).isEqualTo("/pools/a.b~1c");
    assertThat(p.selfAndParents())
        .containsExactly(p, KeyPath.root().key("pools"))
        .doesNotContain(KeyPath.root());
  }

  @Test
  void equalityCoversEveryStep() {
    assertThat(KeyPath.root().key("a").index(1))
        .isEqualTo(KeyPath.root().key("a").index(1))
        .hasSameHashCodeAs(KeyPath.root().key("a").index(1))
        .isNotEqualTo(KeyPath.root().key("a").index(2))
        .isNotEqualTo(KeyPath.root().key("a").key("1"));
  }
}
