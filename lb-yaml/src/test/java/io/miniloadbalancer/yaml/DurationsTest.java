package io.miniloadbalancer.yaml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void everyUnitOfBothFormerSyntaxes() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("20s")).isEqualTo(Duration.ofSeconds(20));
    assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(Durations.parse("0s")).isZero();
    assertThat(Durations.parse(" 15s ")).as("an env value's spaces").hasSeconds(15);
  }

  @Test
  void nineDigitsAtMostSoNoUnitOverflows() {
    assertThat(Durations.parse("999999999h")).isEqualTo(Duration.ofHours(999_999_999));
    assertThatThrownBy(() -> Durations.parse("1000000000ms"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "'1000000000ms' is not a duration like 500ms, 20s, 5m or 1h (digits and a"
                + " unit, no sign)");
  }

  @Test
  void noSignNoFractionNoIsoNoOtherUnit() {
    for (String bad :
        new String[] {
          "-5s",
          "+5s",
          "1.5s",
          "PT5S",
          "P1D",
          "5",
          "s",
          "",
          "5 s",
          "5sec",
          "5d",
          "5S",
          "800 millis",
          "5ms5"
        }) {
      assertThatThrownBy(() -> Durations.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("'" + bad + "' is not a duration like 500ms");
    }
  }
}
