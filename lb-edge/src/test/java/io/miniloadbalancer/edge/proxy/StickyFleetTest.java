package io.miniloadbalancer.edge.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.edge.DemoBackends;
import io.miniloadbalancer.edge.EdgeProxy;
import io.miniloadbalancer.edge.EnvironmentInfo;
import io.miniloadbalancer.edge.config.ConfigFiles;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sealed affinity cookies across a fleet: two proxy processes (two {@link EdgeProxy} instances on
 * their own ports) sharing a key, behind a round-robin client.
 */
class StickyFleetTest {

  private static final String K1 = "k1-0123456789abcdefghijklmnopqrstuvwxyz";
  private static final String K2 = "k2-0123456789abcdefghijklmnopqrstuvwxyz";

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final List<EdgeProxy> proxies = new ArrayList<>();
  private DemoBackends backends;

  @BeforeEach
  void start() throws Exception {
    backends = new DemoBackends(3);
  }

  @AfterEach
  void stop() {
    proxies.forEach(EdgeProxy::close);
    backends.close();
  }

  private EdgeProxy proxy(String keysYaml) throws Exception {
    String yaml =
        backends.config(0, 0).replace("    healthCheckPath: /healthz\n", "    sticky: {}\n")
            + keysYaml;
    EdgeProxy p =
        EdgeProxy.start(ConfigFiles.parse(yaml, "fleet.yaml", Map.of()), EnvironmentInfo.none());
    proxies.add(p);
    return p;
  }

  private HttpResponse<String> get(EdgeProxy p, String path, String cookie) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.proxyPort() + path));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r;
  }

  private static String cookie(HttpResponse<String> r) {
    String v = r.headers().firstValue("set-cookie").orElseThrow();
    return v.substring(0, v.indexOf(';'));
  }

  private static String backend(HttpResponse<String> r) {
    return r.body().substring(0, 6);
  }

  private String metrics(EdgeProxy p) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.adminPort() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void aSessionAlternatingBetweenTwoProxiesAlwaysReachesItsEndpoint() throws Exception {
    EdgeProxy a = proxy("sticky:\n  keys: [" + K1 + "]\n");
    EdgeProxy b = proxy("sticky:\n  keys: [" + K1 + "]\n");
    List<EdgeProxy> roundRobin = List.of(a, b);
    Set<String> homes = new HashSet<>();
    for (int session = 0; session < 6; session++) {
      HttpResponse<String> first =
          get(roundRobin.get(session % 2), "/proxy/demo/s" + session, null);
      String cookie = cookie(first);
      String home = backend(first);
      homes.add(home);
      assertThat(new String(Base64.getUrlDecoder().decode(cookie.split("[=.]")[1])))
          .as("the cookie carries its endpoint's id")
          .isEqualTo(home);
      for (int i = 1; i <= 10; i++) {
        HttpResponse<String> r =
            get(roundRobin.get((session + i) % 2), "/proxy/demo/r" + i, cookie);
        assertThat(backend(r)).as("session %d request %d", session, i).isEqualTo(home);
        assertThat(r.headers().firstValue("set-cookie")).as("no new cookie").isEmpty();
      }
    }
    assertThat(homes).as("sessions are still balanced").hasSizeGreaterThan(1);
    assertThat(metrics(b)).contains("edge_affinity_total{pool=\"demo\",result=\"pinned\"} 30.0");
  }

  @Test
  void aTamperedOrUnknownKeyCookieIsNoCookieAndKeysRotate() throws Exception {
    EdgeProxy old = proxy("sticky:\n  keys: [" + K1 + "]\n");
    EdgeProxy rotating = proxy("sticky:\n  keys: [" + K2 + ", " + K1 + "]\n");
    EdgeProxy fresh = proxy("sticky:\n  keys: [" + K2 + "]\n");

    HttpResponse<String> first = get(old, "/proxy/demo/one", null);
    String cookie = cookie(first);
    String home = backend(first);
    // Rotation: a proxy holding the old key second still honours the old cookie.
    assertThat(backend(get(rotating, "/proxy/demo/two", cookie))).isEqualTo(home);

    // Another endpoint's id under the original seal: refused, re-pinned, counted.
    String other =
        backends.ports().keySet().stream().filter(n -> !n.equals(home)).findFirst().get();
    String[] parts = cookie.substring(cookie.indexOf('=') + 1).split("\\.");
    String forged =
        "edge_demo="
            + Base64.getUrlEncoder().withoutPadding().encodeToString(other.getBytes())
            + "."
            + parts[1]
            + "."
            + parts[2];
    HttpResponse<String> r = get(old, "/proxy/demo/forged", forged);
    assertThat(r.headers().firstValue("set-cookie"))
        .as("re-pinned with a fresh cookie")
        .isPresent();
    assertThat(metrics(old)).contains("edge_affinity_total{pool=\"demo\",result=\"invalid\"} 1.0");

    // A proxy without the old key: the cookie is no cookie; the new cookie works on the rotating
    // proxy too.
    HttpResponse<String> moved = get(fresh, "/proxy/demo/three", cookie);
    String newCookie = cookie(moved);
    assertThat(newCookie).isNotEqualTo(cookie);
    assertThat(metrics(fresh))
        .contains("edge_affinity_total{pool=\"demo\",result=\"invalid\"} 1.0");
    assertThat(backend(get(rotating, "/proxy/demo/four", newCookie))).isEqualTo(backend(moved));
  }
}
