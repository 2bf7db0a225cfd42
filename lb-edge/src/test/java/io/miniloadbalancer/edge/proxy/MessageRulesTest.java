package io.miniloadbalancer.edge.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Host rule (RFC 9110 7.2, RFC 3986 3.2) and the log-safety of hostile text. */
class MessageRulesTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "a",
        "example.com",
        "example.com:8080",
        "127.0.0.1",
        "127.0.0.1:1",
        "[::1]",
        "[::1]:443",
        "[2001:db8::7]:65535",
        "a-b_c.example",
        "a:"
      })
  void authorities(String host) {
    assertThat(MessageRules.isAuthority(host)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        " ",
        "a b",
        "a/b",
        "user@a",
        ":80",
        "a:0",
        "a:65536",
        "a:8o",
        "[::1",
        "[::1]x",
        "a\u0000",
        "a\r",
        "évil.example",
        "a:123456",
        "a,b"
      })
  void notAuthorities(String host) {
    assertThat(MessageRules.isAuthority(host)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/proxy/web/../admin",
        "/proxy/web/%2e%2e/x",
        "/proxy/web/%2E./x",
        "/a/./b",
        "/a/..",
        "/a\\b",
        "/a%5cb",
        "/a/%2e"
      })
  void dotSegmentsAndBackslashesAreFound(String target) {
    assertThat(MessageRules.hasDotSegmentOrBackslash(target)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"/proxy/web/a.b", "/a/...", "/a/.well-known/x", "/a?x=../y", "/a//b", "/"})
  void ordinaryPathsPass(String target) {
    assertThat(MessageRules.hasDotSegmentOrBackslash(target)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\r\nb", "\u0000x", "\u001b[31mred", "über"})
  void printableNeverCarriesControlOrNonAsciiBytes(String s) {
    assertThat(MessageRules.printable(s)).matches("[\\x20-\\x7e]*");
  }
}
