package io.miniloadbalancer.okhttp;

import static org.assertj.core.api.Assertions.assertThat;

import okhttp3.OkHttp;
import org.junit.jupiter.api.Test;

/**
 * The suite runs against the OkHttp the build chose: 5.x by default, 4.12 with {@code -Dokhttp4}
 * (.ci/run does both). Without this, a profile that silently kept 5.x would pass for 4.12.
 */
class OkHttpVersionTest {

  @Test
  void theTestsRunOnTheOkHttpTheBuildAskedFor() throws ReflectiveOperationException {
    String expected = System.getProperty("okhttp.tested");
    assertThat(expected).as("okhttp.tested, set by lb-okhttp's pom").isNotBlank();
    // Read at run time: OkHttp.VERSION is a constant, which javac would copy into this class.
    assertThat(OkHttp.class.getField("VERSION").get(null)).isEqualTo(expected);
  }
}
