package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.config.EdgeConfig;
import io.miniloadbalancer.metrics.MeterNames;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ecs.model.AssignPublicIp;
import software.amazon.awssdk.services.ecs.model.Compatibility;
import software.amazon.awssdk.services.ecs.model.ContainerDefinition;
import software.amazon.awssdk.services.ecs.model.CreateServiceRequest;
import software.amazon.awssdk.services.ecs.model.HealthCheck;
import software.amazon.awssdk.services.ecs.model.KeyValuePair;
import software.amazon.awssdk.services.ecs.model.LaunchType;
import software.amazon.awssdk.services.ecs.model.LoadBalancer;
import software.amazon.awssdk.services.ecs.model.LogDriver;
import software.amazon.awssdk.services.ecs.model.NetworkMode;
import software.amazon.awssdk.services.ecs.model.PortMapping;
import software.amazon.awssdk.services.ecs.model.RegisterTaskDefinitionRequest;
import software.amazon.awssdk.services.ecs.model.Secret;
import software.amazon.awssdk.services.ecs.model.TransportProtocol;
import software.amazon.awssdk.services.ecs.model.Ulimit;
import software.amazon.awssdk.services.ecs.model.UlimitName;

/**
 * Checks the deployment files in {@code lb-edge/deploy} against the AWS models and against each
 * other: the ECS files are parsed strictly with the AWS SDK's own model classes (an unknown or
 * misspelled key fails), and the timing chain the README describes is checked end to end: drain
 * timeout &lt; stopTimeout &lt;= 120 s, deregistration delay &gt;= drain timeout. The dashboard may
 * only query series lb-metrics publishes ({@link MeterNames}).
 */
class DeployFilesTest {

  /** Surefire runs with the module's directory as the working directory. */
  private static final Path DEPLOY = Path.of("deploy");

  private static final String CONTAINER = "edge-proxy";
  private static final int TRAFFIC_PORT = 8080;
  private static final int ADMIN_PORT = 9901;

  /** The hard limit ECS puts on a container's stopTimeout (seconds). */
  private static final int ECS_MAX_STOP_TIMEOUT = 120;

  /**
   * Strict JSON for the SDK builders: unknown keys, duplicate keys, trailing tokens and scalar
   * coercion ("30" for 30) all fail. The SDK's serializable BuilderImpl classes have bean-style
   * setters ({@code setStopTimeout(Integer)}, enums as strings); their constructors are private,
   * which Jackson reaches on the class path (CAN_OVERRIDE_ACCESS_MODIFIERS, on by default).
   */
  private static final ObjectMapper STRICT =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(MapperFeature.CAN_OVERRIDE_ACCESS_MODIFIERS)
          .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
          .build();

  private static final ObjectMapper TREE =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  // ---------------------------------------------------------------------------------------------
  // ECS task definition

  @Test
  void taskDefinitionParsesStrictlyWithTheEcsModel() throws IOException {
    RegisterTaskDefinitionRequest task = taskDefinition();

    assertThat(task.family()).isNotBlank();
    assertThat(task.networkMode()).isEqualTo(NetworkMode.AWSVPC);
    assertThat(task.requiresCompatibilities()).containsExactly(Compatibility.FARGATE);
    assertThat(task.cpu()).isEqualTo("512");
    assertThat(task.memory()).isEqualTo("1024");
    assertThat(task.executionRoleArn()).startsWith("arn:aws:iam::");
    assertThat(task.taskRoleArn()).startsWith("arn:aws:iam::");

    ContainerDefinition c = container(task);
    assertThat(c.image()).isNotBlank();
    assertThat(c.essential()).isTrue();
    assertThat(c.linuxParameters()).isNotNull();
    assertThat(c.linuxParameters().initProcessEnabled())
        .as("an init process reaps the health probe's JVMs and forwards SIGTERM")
        .isTrue();

    assertThat(c.portMappings())
        .extracting(PortMapping::containerPort)
        .contains(TRAFFIC_PORT, ADMIN_PORT);
    assertThat(c.portMappings())
        .allSatisfy(p -> assertThat(p.protocol()).isEqualTo(TransportProtocol.TCP));

    assertThat(c.logConfiguration().logDriver()).isEqualTo(LogDriver.AWSLOGS);
    assertThat(c.logConfiguration().options())
        .containsKeys("awslogs-group", "awslogs-region", "awslogs-stream-prefix");

    assertThat(c.ulimits()).hasSize(1);
    Ulimit nofile = c.ulimits().get(0);
    assertThat(nofile.name()).isEqualTo(UlimitName.NOFILE);
    assertThat(nofile.softLimit())
        .isGreaterThanOrEqualTo(65536)
        .isLessThanOrEqualTo(nofile.hardLimit());
  }

  @Test
  void taskDefinitionMisspelledKeysFail() throws IOException {
    String json = read("ecs-task-definition.json");

    String misspelled = mutate(json, "\"stopTimeout\"", "\"stopTimout\"");
    assertThatThrownBy(() -> parseTaskDefinition(misspelled))
        .isInstanceOf(UnrecognizedPropertyException.class)
        .hasMessageContaining("stopTimout");

    String nested = mutate(json, "\"initProcessEnabled\"", "\"initProcessEnable\"");
    assertThatThrownBy(() -> parseTaskDefinition(nested))
        .isInstanceOf(UnrecognizedPropertyException.class)
        .hasMessageContaining("initProcessEnable");

    String quoted = json.replaceFirst("\"stopTimeout\"\\s*:\\s*(\\d+)", "\"stopTimeout\": \"$1\"");
    assertThat(quoted).isNotEqualTo(json);
    assertThatThrownBy(() -> parseTaskDefinition(quoted))
        .as("a number written as a string is not coerced")
        .isInstanceOf(MismatchedInputException.class);
  }

  @Test
  void stopTimeoutLeavesRoomForTheDrain() throws IOException {
    ContainerDefinition c = container(taskDefinition());
    Duration drain = drainTimeout(c);

    assertThat(c.stopTimeout()).isBetween(2, ECS_MAX_STOP_TIMEOUT);
    assertThat(Duration.ofSeconds(c.stopTimeout()))
        .as("ECS SIGKILLs after stopTimeout: the drain (%s) must end before it", drain)
        .isGreaterThan(drain);
  }

  @Test
  void theShippedConfigLoadsWithTheTaskEnvironmentAndItsShutdownFitsStopTimeout() throws Exception {
    ContainerDefinition c = container(taskDefinition());
    Map<String, String> env = new LinkedHashMap<>(environment(c));
    env.putIfAbsent(
        "EDGE_ADMIN_TOKEN", "from-secrets-manager"); // a secret in the task, not a value
    EdgeConfig config = ConfigFiles.load(DEPLOY.resolve("edge.yaml"), env);
    Duration shutdown = config.server().drainTimeout();
    if (config.consul() != null && config.consul().register() != null) {
      shutdown = shutdown.plus(config.consul().register().drainWait());
    }
    assertThat(Duration.ofSeconds(c.stopTimeout()))
        .as("maintenance wait + drain (%s) must end before ECS's SIGKILL", shutdown)
        .isGreaterThan(shutdown);
  }

  @Test
  void everyPrometheusTargetIsAHostTheAdminListenerAnswers() throws Exception {
    ContainerDefinition c = container(taskDefinition());
    Map<String, String> env = new LinkedHashMap<>(environment(c));
    env.putIfAbsent("EDGE_ADMIN_TOKEN", "from-secrets-manager");
    EdgeConfig config = ConfigFiles.load(DEPLOY.resolve("edge.yaml"), env);
    JsonNode prom = new YAMLMapper().readTree(read("prometheus.yml"));
    List<String> hosts = new ArrayList<>();
    for (JsonNode job : prom.get("scrape_configs")) {
      for (JsonNode sc : job.path("static_configs")) {
        for (JsonNode t : sc.path("targets")) {
          hosts.add(t.asText().replaceFirst(":\\d+$", ""));
        }
      }
    }
    assertThat(hosts).isNotEmpty();
    // An address is always answered (the connection's own); a name only when listed.
    assertThat(hosts)
        .allSatisfy(
            h ->
                assertThat(
                        h.matches("[0-9.]+")
                            || config.admin().allowedHosts().stream()
                                .anyMatch(
                                    a ->
                                        a.equalsIgnoreCase(h)
                                            || a.toLowerCase().startsWith(h.toLowerCase() + ":")))
                    .as("%s is in admin.allowedHosts %s", h, config.admin().allowedHosts())
                    .isTrue());
  }

  @Test
  void containerHealthCheckProbesLivenessWithinEcsLimits() throws IOException {
    ContainerDefinition c = container(taskDefinition());
    HealthCheck hc = c.healthCheck();

    assertThat(hc.interval()).isBetween(5, 300);
    assertThat(hc.timeout()).isBetween(2, 60).isLessThan(hc.interval());
    assertThat(hc.retries()).isBetween(1, 10);
    assertThat(hc.startPeriod()).isBetween(0, 300);

    List<String> command = hc.command();
    assertThat(command.get(0)).isEqualTo("CMD");
    assertThat(command)
        .containsSubsequence("healthcheck", "http://127.0.0.1:" + TRAFFIC_PORT + "/healthz");
    assertThat(command.get(command.size() - 1)).endsWith("/healthz");
    // The probe runs the same jar the image's ENTRYPOINT starts.
    assertThat(command).containsSubsequence("java", "-jar", entrypointJar());
  }

  @Test
  void environmentFollowsTheOverrideRuleAndKeepsTheTokenSecret() throws IOException {
    ContainerDefinition c = container(taskDefinition());
    Map<String, String> env = environment(c);

    assertThat(env)
        .containsKeys(
            envName("admin.bind"), envName("server.drainTimeout"), envName("consul.agent"));
    assertThat(envName("server.drainTimeout")).isEqualTo("EDGE_SERVER_DRAIN_TIMEOUT");
    assertThat(envName("admin.token")).isEqualTo("EDGE_ADMIN_TOKEN");
    assertThat(env.keySet()).allSatisfy(k -> assertThat(k).matches("EDGE_[A-Z0-9]+(_[A-Z0-9]+)*"));

    // Admin bound beyond loopback: /admin/* needs the bearer token, which comes from Secrets
    // Manager, never from the plain environment.
    assertThat(env.get("EDGE_ADMIN_BIND")).isNotEqualTo("127.0.0.1");
    assertThat(env).doesNotContainKey("EDGE_ADMIN_TOKEN");
    assertThat(c.secrets()).extracting(Secret::name).contains("EDGE_ADMIN_TOKEN");
    assertThat(c.secrets())
        .allSatisfy(s -> assertThat(s.valueFrom()).startsWith("arn:aws:secretsmanager:"));
  }

  // ---------------------------------------------------------------------------------------------
  // ECS service

  @Test
  void serviceParsesStrictlyWithTheEcsModel() throws IOException {
    CreateServiceRequest service = service();
    RegisterTaskDefinitionRequest task = taskDefinition();

    assertThat(service.serviceName()).isNotBlank();
    assertThat(service.cluster()).isNotBlank();
    assertThat(service.taskDefinition()).matches(Pattern.quote(task.family()) + "(:\\d+)?");
    assertThat(service.desiredCount()).isEqualTo(2);
    assertThat(service.launchType()).isEqualTo(LaunchType.FARGATE);
    assertThat(service.networkConfiguration().awsvpcConfiguration().assignPublicIp())
        .isEqualTo(AssignPublicIp.DISABLED);
    assertThat(service.networkConfiguration().awsvpcConfiguration().subnets()).isNotEmpty();
    assertThat(service.networkConfiguration().awsvpcConfiguration().securityGroups()).isNotEmpty();
  }

  @Test
  void serviceMisspelledKeysFail() throws IOException {
    String json = read("ecs-service.json");

    String misspelled =
        mutate(json, "\"healthCheckGracePeriodSeconds\"", "\"healthCheckGracePeriod\"");
    assertThatThrownBy(() -> parseService(misspelled))
        .isInstanceOf(UnrecognizedPropertyException.class)
        .hasMessageContaining("healthCheckGracePeriod");

    // A classic: the circuit breaker's switch is "enable", not "enabled".
    String nested = mutate(json, "\"enable\"", "\"enabled\"");
    assertThatThrownBy(() -> parseService(nested))
        .isInstanceOf(UnrecognizedPropertyException.class)
        .hasMessageContaining("enabled");
  }

  @Test
  void serviceDeploysWithoutLosingCapacityAndRollsBack() throws IOException {
    CreateServiceRequest service = service();
    var deployment = service.deploymentConfiguration();

    assertThat(deployment.minimumHealthyPercent()).isEqualTo(100);
    assertThat(deployment.maximumPercent()).isEqualTo(200);
    assertThat(deployment.deploymentCircuitBreaker().enable()).isTrue();
    assertThat(deployment.deploymentCircuitBreaker().rollback()).isTrue();

    int startPeriod = container(taskDefinition()).healthCheck().startPeriod();
    assertThat(service.healthCheckGracePeriodSeconds())
        .as("grace period covers the container's health-check start period")
        .isGreaterThanOrEqualTo(startPeriod);
  }

  @Test
  void serviceLoadBalancerPointsAtTheTrafficPort() throws IOException {
    CreateServiceRequest service = service();
    RegisterTaskDefinitionRequest task = taskDefinition();

    assertThat(service.loadBalancers()).hasSize(1);
    LoadBalancer lb = service.loadBalancers().get(0);
    assertThat(lb.targetGroupArn()).startsWith("arn:aws:elasticloadbalancing:");
    ContainerDefinition c =
        task.containerDefinitions().stream()
            .filter(d -> d.name().equals(lb.containerName()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no container named " + lb.containerName()));
    assertThat(c.portMappings())
        .extracting(PortMapping::containerPort)
        .contains(lb.containerPort());
    assertThat(lb.containerPort()).isEqualTo(TRAFFIC_PORT);
    assertThat(targetGroup().get("Port").asInt())
        .as("the target group's port is the container port the service registers")
        .isEqualTo(lb.containerPort());
  }

  // ---------------------------------------------------------------------------------------------
  // ALB target group

  private static final Set<String> CREATE_TARGET_GROUP_KEYS =
      Set.of(
          "Name",
          "Protocol",
          "ProtocolVersion",
          "Port",
          "VpcId",
          "HealthCheckProtocol",
          "HealthCheckPort",
          "HealthCheckEnabled",
          "HealthCheckPath",
          "HealthCheckIntervalSeconds",
          "HealthCheckTimeoutSeconds",
          "HealthyThresholdCount",
          "UnhealthyThresholdCount",
          "Matcher",
          "TargetType",
          "Tags",
          "IpAddressType");

  @Test
  void targetGroupIsAValidCreateTargetGroupRequest() throws IOException {
    JsonNode root = TREE.readTree(read("alb-target-group.json"));
    assertThat(fieldNames(root))
        .containsExactlyInAnyOrder("CreateTargetGroup", "ModifyTargetGroupAttributes");

    JsonNode tg = targetGroup();
    assertThat(fieldNames(tg)).isSubsetOf(CREATE_TARGET_GROUP_KEYS).contains("Name");
    assertThat(fieldNames(tg.get("Matcher"))).isSubsetOf(Set.of("HttpCode", "GrpcCode"));
    assertThat(tg.get("Name").asText()).matches("[A-Za-z0-9-]{1,32}");
    assertThat(tg.get("Protocol").asText()).isEqualTo("HTTP");
    assertThat(tg.get("TargetType").asText()).as("awsvpc tasks register by IP").isEqualTo("ip");
    assertThat(tg.get("Port").isInt()).isTrue();

    JsonNode attrs = root.get("ModifyTargetGroupAttributes");
    assertThat(fieldNames(attrs)).isSubsetOf(Set.of("TargetGroupArn", "Attributes"));
    assertThat(attrs.get("Attributes"))
        .allSatisfy(a -> assertThat(fieldNames(a)).containsExactlyInAnyOrder("Key", "Value"));
  }

  @Test
  void targetGroupHealthCheckProbesReadinessOnTheTrafficPort() throws IOException {
    JsonNode tg = targetGroup();

    assertThat(tg.get("Port").asInt()).isEqualTo(TRAFFIC_PORT);
    assertThat(tg.get("HealthCheckPath").asText()).isEqualTo("/readyz");
    assertThat(tg.path("HealthCheckPort").asText("traffic-port"))
        .isIn("traffic-port", String.valueOf(TRAFFIC_PORT));
    assertThat(tg.path("HealthCheckProtocol").asText("HTTP")).isEqualTo("HTTP");
    assertThat(tg.path("HealthCheckEnabled").asBoolean(true)).isTrue();

    int interval = intField(tg, "HealthCheckIntervalSeconds");
    int timeout = intField(tg, "HealthCheckTimeoutSeconds");
    assertThat(interval).isBetween(5, 300);
    assertThat(timeout).isBetween(2, 120).isLessThan(interval);
    assertThat(intField(tg, "HealthyThresholdCount")).isBetween(2, 10);
    assertThat(intField(tg, "UnhealthyThresholdCount")).isBetween(2, 10);
    assertThat(tg.get("Matcher").get("HttpCode").asText()).isEqualTo("200");
  }

  @Test
  void deregistrationDelayCoversTheDrain() throws IOException {
    Map<String, String> attrs = new LinkedHashMap<>();
    TREE.readTree(read("alb-target-group.json"))
        .get("ModifyTargetGroupAttributes")
        .get("Attributes")
        .forEach(a -> attrs.put(a.get("Key").asText(), a.get("Value").asText()));

    String delay = attrs.get("deregistration_delay.timeout_seconds");
    assertThat(delay).as("deregistration_delay.timeout_seconds").matches("\\d+");
    Duration deregistration = Duration.ofSeconds(Integer.parseInt(delay));
    Duration drain = drainTimeout(container(taskDefinition()));

    assertThat(deregistration).isLessThanOrEqualTo(Duration.ofSeconds(3600));
    assertThat(deregistration)
        .as(
            "ECS waits the deregistration delay before SIGTERM; it must cover the drain" + " (%s)",
            drain)
        .isGreaterThanOrEqualTo(drain);
  }

  // ---------------------------------------------------------------------------------------------
  // Dockerfile

  @Test
  void dockerfileRunsJava17JreAsNonRootWithExecFormEntrypoint() throws IOException {
    List<String[]> instructions = dockerInstructions();

    List<String> from = arguments(instructions, "FROM");
    assertThat(from).hasSize(1);
    assertThat(from.get(0)).matches("eclipse-temurin:17[0-9.+_u]*-jre[^\\s]*");

    List<String> users = arguments(instructions, "USER");
    assertThat(users).isNotEmpty();
    String user = users.get(users.size() - 1).split(":")[0];
    assertThat(user).isNotIn("root", "0");

    List<String> entrypoint = jsonArray(single(instructions, "ENTRYPOINT"));
    assertThat(entrypoint.get(0)).isEqualTo("java");
    assertThat(entrypoint).containsSubsequence("-jar", "/app/edge-proxy.jar");
    assertThat(entrypoint.get(entrypoint.size() - 1)).isEqualTo("/app/edge-proxy.jar");

    assertThat(jsonArray(single(instructions, "CMD")))
        .containsExactly("--config", "/app/edge.yaml");

    Set<String> exposed =
        arguments(instructions, "EXPOSE").stream()
            .flatMap(a -> List.of(a.trim().split("\\s+")).stream())
            .map(p -> p.replaceFirst("/tcp$", ""))
            .collect(Collectors.toSet());
    assertThat(exposed).contains(String.valueOf(TRAFFIC_PORT), String.valueOf(ADMIN_PORT));
  }

  // ---------------------------------------------------------------------------------------------
  // Prometheus

  @Test
  void prometheusScrapesTheAdminPortsMetrics() throws IOException {
    JsonNode prom = new YAMLMapper().readTree(read("prometheus.yml"));
    JsonNode job = null;
    for (JsonNode j : prom.get("scrape_configs")) {
      if ("edge-proxy".equals(j.path("job_name").asText())) {
        job = j;
      }
    }
    assertThat(job).as("scrape job edge-proxy").isNotNull();
    assertThat(job.path("metrics_path").asText("/metrics")).isEqualTo("/metrics");
    String interval =
        job.path("scrape_interval").asText(prom.path("global").path("scrape_interval").asText());
    assertThat(interval).isEqualTo("15s");

    List<String> targets = new ArrayList<>();
    job.get("static_configs")
        .forEach(sc -> sc.get("targets").forEach(t -> targets.add(t.asText())));
    assertThat(targets).isNotEmpty().allSatisfy(t -> assertThat(t).endsWith(":" + ADMIN_PORT));
  }

  // ---------------------------------------------------------------------------------------------
  // Grafana

  /** Counters: Prometheus adds {@code _total}. */
  private static final Set<String> COUNTERS =
      Set.of(
          MeterNames.REQUESTS,
          MeterNames.RETRIES,
          MeterNames.RETRIES_BUDGET_EXHAUSTED,
          MeterNames.EJECTIONS,
          MeterNames.TRANSITIONS,
          MeterNames.STRATEGY_SWITCHES);

  /** Timers (base unit seconds, no histogram buckets published): _count, _sum, _max. */
  private static final Set<String> TIMERS = Set.of(MeterNames.REQUEST_DURATION);

  /** Gauges with base unit seconds: Prometheus adds {@code _seconds}. */
  private static final Set<String> SECONDS_GAUGES = Set.of(MeterNames.DISCOVERY_STALENESS);

  @Test
  void dashboardQueriesOnlySeriesLbMetricsPublishes() throws IOException {
    Map<String, Set<String>> byMeter = prometheusNames();
    Set<String> allowed =
        byMeter.values().stream()
            .flatMap(Set::stream)
            .collect(Collectors.toCollection(TreeSet::new));
    assertThat(allowed)
        .contains(
            "lb_requests_total",
            "lb_request_duration_seconds_sum",
            "lb_endpoints",
            "lb_discovery_staleness_seconds",
            "lb_retries_budget_exhausted_total");

    JsonNode dash = TREE.readTree(read("grafana-dashboard.json"));
    List<String> exprs = new ArrayList<>();
    collectExprs(dash, exprs);
    assertThat(exprs).hasSizeGreaterThanOrEqualTo(12);

    Set<String> used = new TreeSet<>();
    for (String expr : exprs) {
      Set<String> names = metricNames(expr);
      assertThat(names).as("metrics in %s", expr).isNotEmpty();
      if (names.stream().noneMatch(n -> n.startsWith("lb_"))) {
        continue; // the proxy's and the JVM's series: ObservedSeriesTest checks them live
      }
      assertThat(names).as("metrics in %s", expr).isSubsetOf(allowed);
      assertThat(expr).as("filtered by the pool variable").contains("pool=~\"$pool\"");
      used.addAll(names);
    }
    for (JsonNode v : dash.get("templating").get("list")) {
      JsonNode q = v.path("query");
      String query = q.isObject() ? q.path("query").asText() : q.asText();
      Matcher m = Pattern.compile("label_values\\(\\s*([^,)]+)").matcher(query);
      if (m.find()) {
        assertThat(metricNames(m.group(1))).as("variable %s", v.get("name")).isSubsetOf(allowed);
      }
    }
    byMeter.forEach(
        (meter, names) ->
            assertThat(used)
                .as("meter %s has a panel (dashboards depend on MeterNames)", meter)
                .containsAnyElementsOf(names));
  }

  @Test
  void dashboardHasPoolAndDatasourceVariables() throws IOException {
    JsonNode dash = TREE.readTree(read("grafana-dashboard.json"));
    assertThat(dash.get("schemaVersion").asInt()).isBetween(36, 45);

    Map<String, JsonNode> vars = new LinkedHashMap<>();
    dash.get("templating").get("list").forEach(v -> vars.put(v.get("name").asText(), v));
    assertThat(vars).containsKeys("pool", "datasource");
    assertThat(vars.get("datasource").get("type").asText()).isEqualTo("datasource");
    assertThat(vars.get("datasource").get("query").asText()).isEqualTo("prometheus");
    assertThat(vars.get("pool").get("type").asText()).isEqualTo("query");

    // No hard-coded data source: every Prometheus reference goes through the variable.
    List<JsonNode> refs = new ArrayList<>();
    collectDatasources(dash, refs);
    assertThat(refs)
        .isNotEmpty()
        .allSatisfy(
            ds -> assertThat(ds.path("uid").asText()).isIn("${datasource}", "-- Grafana --"));
  }

  // ---------------------------------------------------------------------------------------------
  // README

  @Test
  void readmeDescribesEveryFile() throws IOException {
    String readme = read("README.md");
    try (var files = Files.list(DEPLOY)) {
      files
          .map(p -> p.getFileName().toString())
          .filter(n -> !n.equals("README.md"))
          .forEach(n -> assertThat(readme).as("README mentions %s", n).contains(n));
    }
  }

  // =============================================================================================
  // Helpers

  private static String read(String name) throws IOException {
    return Files.readString(DEPLOY.resolve(name), StandardCharsets.UTF_8);
  }

  private static String mutate(String text, String from, String to) {
    assertThat(text).contains(from);
    return text.replaceFirst(Pattern.quote(from), Matcher.quoteReplacement(to));
  }

  private static RegisterTaskDefinitionRequest parseTaskDefinition(String json) throws IOException {
    return STRICT.readValue(json, RegisterTaskDefinitionRequest.serializableBuilderClass()).build();
  }

  private static CreateServiceRequest parseService(String json) throws IOException {
    return STRICT.readValue(json, CreateServiceRequest.serializableBuilderClass()).build();
  }

  private static RegisterTaskDefinitionRequest taskDefinition() throws IOException {
    return parseTaskDefinition(read("ecs-task-definition.json"));
  }

  private static CreateServiceRequest service() throws IOException {
    return parseService(read("ecs-service.json"));
  }

  private static JsonNode targetGroup() throws IOException {
    return TREE.readTree(read("alb-target-group.json")).get("CreateTargetGroup");
  }

  private static ContainerDefinition container(RegisterTaskDefinitionRequest task) {
    return task.containerDefinitions().stream()
        .filter(c -> CONTAINER.equals(c.name()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no container named " + CONTAINER));
  }

  private static Map<String, String> environment(ContainerDefinition c) {
    Map<String, String> env = new LinkedHashMap<>();
    for (KeyValuePair kv : c.environment()) {
      assertThat(env.put(kv.name(), kv.value())).as("duplicate %s", kv.name()).isNull();
    }
    return env;
  }

  private static Duration drainTimeout(ContainerDefinition c) {
    String value = environment(c).get("EDGE_SERVER_DRAIN_TIMEOUT");
    assertThat(value).as("EDGE_SERVER_DRAIN_TIMEOUT").isNotNull();
    return parseDuration(value);
  }

  /** "20s", "500ms", "2m", "1h", or ISO-8601 ("PT20S"). */
  static Duration parseDuration(String text) {
    Matcher m = Pattern.compile("(\\d+)(ms|s|m|h)").matcher(text.trim());
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      switch (m.group(2)) {
        case "ms":
          return Duration.ofMillis(n);
        case "s":
          return Duration.ofSeconds(n);
        case "m":
          return Duration.ofMinutes(n);
        default:
          return Duration.ofHours(n);
      }
    }
    return Duration.parse(text.trim());
  }

  /**
   * The environment override rule: {@code EDGE_} + the key's path segments, camelCase split by
   * {@code _}, upper-cased ({@code server.drainTimeout} -> {@code EDGE_SERVER_DRAIN_TIMEOUT}).
   */
  static String envName(String key) {
    StringBuilder sb = new StringBuilder("EDGE");
    for (String segment : key.split("\\.")) {
      sb.append('_').append(segment.replaceAll("([a-z0-9])([A-Z])", "$1_$2"));
    }
    return sb.toString().toUpperCase(Locale.ROOT);
  }

  private static int intField(JsonNode node, String name) {
    JsonNode v = node.get(name);
    assertThat(v).as(name).isNotNull();
    assertThat(v.isInt()).as("%s is a number", name).isTrue();
    return v.asInt();
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new LinkedHashSet<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }

  /**
   * Dockerfile instructions as {keyword, arguments}, with continuations joined, comments dropped.
   */
  private static List<String[]> dockerInstructions() throws IOException {
    List<String[]> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : read("Dockerfile").split("\n", -1)) {
      String trimmed = line.strip();
      if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.length() == 0)) {
        continue;
      }
      if (trimmed.endsWith("\\")) {
        current.append(trimmed, 0, trimmed.length() - 1).append(' ');
        continue;
      }
      current.append(trimmed);
      String instruction = current.toString().strip();
      current.setLength(0);
      if (!instruction.isEmpty()) {
        String[] parts = instruction.split("\\s+", 2);
        out.add(new String[] {parts[0].toUpperCase(Locale.ROOT), parts.length > 1 ? parts[1] : ""});
      }
    }
    assertThat(current.toString().strip()).as("dangling continuation").isEmpty();
    return out;
  }

  private static List<String> arguments(List<String[]> instructions, String keyword) {
    return instructions.stream()
        .filter(i -> i[0].equals(keyword))
        .map(i -> i[1])
        .collect(Collectors.toList());
  }

  private static String single(List<String[]> instructions, String keyword) {
    List<String> args = arguments(instructions, keyword);
    assertThat(args).as("exactly one %s", keyword).hasSize(1);
    return args.get(0);
  }

  /** An exec-form argument: must be a JSON array of strings. */
  private static List<String> jsonArray(String args) throws IOException {
    JsonNode node = TREE.readTree(args);
    assertThat(node.isArray()).as("exec form (JSON array): %s", args).isTrue();
    List<String> out = new ArrayList<>();
    node.forEach(
        n -> {
          assertThat(n.isTextual()).as("string element in %s", args).isTrue();
          out.add(n.asText());
        });
    return out;
  }

  private static String entrypointJar() throws IOException {
    List<String> entrypoint = jsonArray(single(dockerInstructions(), "ENTRYPOINT"));
    return entrypoint.get(entrypoint.indexOf("-jar") + 1);
  }

  /**
   * Prometheus names of every meter in {@link MeterNames} (the public String constants not named
   * *_DESCRIPTION), keyed by the Micrometer name, with Micrometer's Prometheus naming: dots to
   * underscores, counters + _total, timers + _seconds_count/_sum/_max, seconds gauges + _seconds.
   */
  private static Map<String, Set<String>> prometheusNames() throws IOException {
    Set<String> meters = new TreeSet<>();
    for (Field f : MeterNames.class.getDeclaredFields()) {
      int mod = f.getModifiers();
      if (Modifier.isPublic(mod)
          && Modifier.isStatic(mod)
          && Modifier.isFinal(mod)
          && f.getType() == String.class
          && !f.getName().endsWith("_DESCRIPTION")) {
        try {
          meters.add((String) f.get(null));
        } catch (IllegalAccessException e) {
          throw new IOException(e);
        }
      }
    }
    assertThat(meters)
        .contains(MeterNames.REQUESTS)
        .allSatisfy(m -> assertThat(m).matches("[a-z]+(\\.[a-z]+)*"));

    Map<String, Set<String>> out = new LinkedHashMap<>();
    for (String meter : meters) {
      String base = meter.replace('.', '_');
      if (COUNTERS.contains(meter)) {
        out.put(meter, Set.of(base + "_total"));
      } else if (TIMERS.contains(meter)) {
        out.put(
            meter, Set.of(base + "_seconds_count", base + "_seconds_sum", base + "_seconds_max"));
      } else if (SECONDS_GAUGES.contains(meter)) {
        out.put(meter, Set.of(base + "_seconds"));
      } else {
        out.put(meter, Set.of(base));
      }
    }
    return out;
  }

  private static final Set<String> PROMQL_KEYWORDS =
      Set.of(
          "by",
          "without",
          "on",
          "ignoring",
          "group_left",
          "group_right",
          "bool",
          "and",
          "or",
          "unless",
          "offset",
          "atan2",
          "inf",
          "nan");

  private static final Pattern PROMQL_IDENTIFIER =
      Pattern.compile("(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\\s*\\()?");

  /** Metric names a PromQL expression selects (functions, keywords, labels, variables excluded). */
  static Set<String> metricNames(String expr) {
    String s =
        expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`", " ")
            .replaceAll("\\{[^}]*}", " ")
            .replaceAll("\\[[^\\]]*]", " ")
            .replaceAll("\\$\\{[^}]*}|\\$[A-Za-z0-9_]+", " ")
            .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
    Set<String> names = new TreeSet<>();
    Matcher m = PROMQL_IDENTIFIER.matcher(s);
    while (m.find()) {
      String id = m.group(1);
      if (m.group(2) == null && !PROMQL_KEYWORDS.contains(id.toLowerCase(Locale.ROOT))) {
        names.add(id);
      }
    }
    return names;
  }

  @Test
  void promqlMetricNameExtraction() {
    assertThat(
            metricNames(
                "sum by (pool, outcome) (rate(lb_requests_total{pool=~\"$pool\","
                    + " x=\"up\"}[$__rate_interval])) / on(pool) group_left"
                    + " sum(rate(other_metric[5m] offset 1h)) > bool 0.5e3"))
        .containsExactly("lb_requests_total", "other_metric");
    assertThat(metricNames("topk(10, lb_endpoint_in_flight{pool=~\"$pool\"}) == 1"))
        .containsExactly("lb_endpoint_in_flight");
    assertThat(metricNames("max(up) without (instance)")).containsExactly("up");
  }

  static void collectExprs(JsonNode node, List<String> out) {
    if (node.isObject()) {
      node.properties()
          .forEach(
              e -> {
                if (e.getKey().equals("expr") && e.getValue().isTextual()) {
                  out.add(e.getValue().asText());
                } else {
                  collectExprs(e.getValue(), out);
                }
              });
    } else if (node.isArray()) {
      node.forEach(n -> collectExprs(n, out));
    }
  }

  private static void collectDatasources(JsonNode node, List<JsonNode> out) {
    if (node.isObject()) {
      node.properties()
          .forEach(
              e -> {
                if (e.getKey().equals("datasource") && e.getValue().isObject()) {
                  out.add(e.getValue());
                } else {
                  collectDatasources(e.getValue(), out);
                }
              });
    } else if (node.isArray()) {
      node.forEach(n -> collectDatasources(n, out));
    }
  }
}
