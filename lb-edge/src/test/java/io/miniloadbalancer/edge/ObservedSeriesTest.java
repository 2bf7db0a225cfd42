package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.proxy.EdgeMeters;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every Grafana query of the proxy's and the JVM's series names one a real proxy serves: a proxy
 * with a plain, a sticky and a failing pool takes traffic (a retry, a connect error, an affinity
 * pin, a GC), then every metric name in {@code deploy/grafana-dashboard.json} must be in its {@code
 * /metrics}, and every {@code edge.*} meter of {@link EdgeMeters} must have a panel.
 */
class ObservedSeriesTest {

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private DemoBackends backends;
  private EdgeProxy edge;

  @AfterEach
  void stop() {
    if (edge != null) {
      edge.close();
    }
    if (backends != null) {
      backends.close();
    }
  }

  private String get(int port, String path) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private Set<String> servedSeries() throws Exception {
    Set<String> names = new TreeSet<>();
    Matcher m =
        Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]")
            .matcher(get(edge.adminPort(), "/metrics"));
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  @Test
  void everyDashboardQueryNamesASeriesTheProxyServes() throws Exception {
    backends = new DemoBackends(2);
    String yaml =
        backends.config(0, 0).replace("    healthCheckPath: /healthz\n", "")
            + "  sticky:\n"
            + "    endpoints:\n"
            + "      - {id: s1, host: 127.0.0.1, port: "
            + backends.ports().values().iterator().next()
            + "}\n"
            + "    sticky: {cookie: edge-sticky}\n"
            + "  dead:\n"
            + "    endpoints:\n"
            + "      - {id: d1, host: 127.0.0.1, port: 1}\n"
            + "      - {id: d2, host: 127.0.0.1, port: 2}\n";
    edge = EdgeProxy.start(ConfigFiles.parse(yaml, "test.yaml", Map.of()), EnvironmentInfo.none());
    get(edge.proxyPort(), "/proxy/demo/hello");
    get(edge.proxyPort(), "/proxy/sticky/hello");
    get(edge.proxyPort(), "/proxy/dead/hello");
    get(edge.proxyPort(), "/nowhere");
    System.gc(); // jvm_gc_pause_seconds appears after a first collection
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> servedSeries().contains("jvm_gc_pause_seconds_sum"));
    Set<String> served = servedSeries();

    JsonNode dash =
        new ObjectMapper().readTree(Files.readString(Path.of("deploy/grafana-dashboard.json")));
    List<String> exprs = new ArrayList<>();
    DeployFilesTest.collectExprs(dash, exprs);
    Set<String> used = new TreeSet<>();
    for (String expr : exprs) {
      Set<String> names = DeployFilesTest.metricNames(expr);
      assertThat(names).as("series in %s", expr).isNotEmpty();
      // lb_* series (some appear only after an event, such as a strategy switch) are checked
      // against lb-metrics' MeterNames by DeployFilesTest.
      names.removeIf(n -> n.startsWith("lb_"));
      assertThat(names).as("series in %s", expr).isSubsetOf(served);
      used.addAll(names);
    }
    for (Field f : EdgeMeters.class.getDeclaredFields()) {
      if (Modifier.isPublic(f.getModifiers()) && f.getType() == String.class) {
        String base = ((String) f.get(null)).replace('.', '_');
        assertThat(used)
            .as("meter %s has a panel", base)
            .anyMatch(n -> n.equals(base) || n.startsWith(base + "_"));
      }
    }
  }
}
