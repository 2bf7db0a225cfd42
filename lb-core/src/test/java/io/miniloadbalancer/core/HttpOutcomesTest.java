package io.miniloadbalancer.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

class HttpOutcomesTest {

  @Test
  void statusesMapToOutcomesAsTheTableSays() {
    assertThat(HttpOutcomes.outcome(200, false)).isEqualTo(Outcome.SUCCESS);
    assertThat(HttpOutcomes.outcome(404, true)).isEqualTo(Outcome.SUCCESS);
    assertThat(HttpOutcomes.outcome(429, false)).isEqualTo(Outcome.OVERLOADED);
    assertThat(HttpOutcomes.outcome(503, true)).isEqualTo(Outcome.OVERLOADED);
    assertThat(HttpOutcomes.outcome(503, false)).isEqualTo(Outcome.FAILURE);
    assertThat(HttpOutcomes.outcome(500, true)).isEqualTo(Outcome.FAILURE);
    assertThat(HttpOutcomes.isRetryable(429)).isTrue();
    assertThat(HttpOutcomes.isRetryable(502)).isTrue();
    assertThat(HttpOutcomes.isRetryable(404)).isFalse();
    assertThat(HttpOutcomes.isRetryable(200)).isFalse();
  }

  @Test
  void idempotencyByMethodOrByKey() {
    assertThat(HttpOutcomes.isIdempotent("get", false)).isTrue();
    assertThat(HttpOutcomes.isIdempotent("PUT", false)).isTrue();
    assertThat(HttpOutcomes.isIdempotent("POST", false)).isFalse();
    assertThat(HttpOutcomes.isIdempotent("POST", true)).isTrue();
    assertThat(RetryPolicy.isIdempotent("PATCH")).isFalse();
    assertThat(RetryPolicy.isIdempotent("delete")).isTrue();
  }

  @Test
  void retryAfterReadsSecondsOrADateCappedAtADay() {
    Instant now = Instant.parse("2025-01-01T00:00:00Z");
    assertThat(HttpOutcomes.retryAfter(null, now)).isNull();
    assertThat(HttpOutcomes.retryAfter(" 5 ", now)).isEqualTo(Duration.ofSeconds(5));
    assertThat(HttpOutcomes.retryAfter("-3", now)).isEqualTo(Duration.ZERO);
    assertThat(HttpOutcomes.retryAfter("soon", now)).isNull();
    assertThat(HttpOutcomes.retryAfter("999999999", now)).isEqualTo(Duration.ofDays(1));
    String date =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(now.plusSeconds(90).atOffset(ZoneOffset.UTC));
    assertThat(HttpOutcomes.retryAfter(date, now)).isEqualTo(Duration.ofSeconds(90));
    String past =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(now.minusSeconds(90).atOffset(ZoneOffset.UTC));
    assertThat(HttpOutcomes.retryAfter(past, now)).isEqualTo(Duration.ZERO);
  }
}
