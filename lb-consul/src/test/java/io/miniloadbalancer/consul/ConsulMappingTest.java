package io.miniloadbalancer.consul;

import static org.assertj.core.api.Assertions.assertThat;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.SourceHealth;
import org.junit.jupiter.api.Test;

/** The mapping on real Consul 1.8.7 answers. */
class ConsulMappingTest {

  private static final ConsulMapping.Settings DEFAULTS =
      new ConsulMapping.Settings(WarningPolicy.WARNING_WEIGHT, null, "zone");

  private static ConsulMapping.Mapped map(String capture, ConsulMapping.Settings settings) {
    return ConsulMapping.map(Captures.parse(capture), settings);
  }

  private static Endpoint endpoint(ConsulMapping.Mapped m, String id) {
    return m.endpoints().stream().filter(e -> e.id().equals(id)).findFirst().orElseThrow();
  }

  @Test
  void addressPortWeightZoneAndMetadata() {
    ConsulMapping.Mapped m = map("health-all", DEFAULTS);
    assertThat(m.endpoints()).extracting(Endpoint::id).containsExactly("api-1", "api-2");
    Endpoint api1 = endpoint(m, "api-1");
    assertThat(api1.host()).isEqualTo("127.0.0.1");
    assertThat(api1.port()).isEqualTo(18080);
    assertThat(api1.weight()).as("Weights.Passing").isEqualTo(10);
    assertThat(api1.zone()).isEqualTo("a");
    assertThat(api1.metadata())
        .containsEntry("version", "1.0")
        .containsEntry("consul.node", "vm")
        .containsEntry("consul.tags", "v1,edge")
        .containsEntry("consul.status", "passing");
    Endpoint api2 = endpoint(m, "api-2");
    assertThat(api2.host()).as("no Service.Address: the node's").isEqualTo("127.0.0.1");
    assertThat(api2.port()).isEqualTo(18081);
    assertThat(api2.weight()).isEqualTo(1);
    assertThat(api2.zone()).isEmpty();
    assertThat(m.health()).isEmpty();
    assertThat(m.skipped()).isEmpty();
  }

  @Test
  void criticalCheckMakesItCriticalWithTheCheckNamed() {
    ConsulMapping.Mapped m = map("health-initial", DEFAULTS);
    assertThat(m.endpoints()).hasSize(2);
    SourceHealth h = m.health().get("api-1");
    assertThat(h.status()).isEqualTo(SourceHealth.Status.CRITICAL);
    assertThat(h.detail()).contains("api-1-ttl");
    assertThat(m.health()).doesNotContainKey("api-2");
  }

  @Test
  void warningUsesTheWarningWeightByDefault() {
    ConsulMapping.Mapped m = map("blk-change-warn", DEFAULTS);
    assertThat(endpoint(m, "api-1").weight()).as("Weights.Warning").isEqualTo(1);
    assertThat(endpoint(m, "api-1").metadata()).containsEntry("consul.status", "warning");
    assertThat(m.health()).doesNotContainKey("api-1");
  }

  @Test
  void warningPoliciesPassingWeightAndUnhealthy() {
    ConsulMapping.Mapped passing =
        map(
            "blk-change-warn",
            new ConsulMapping.Settings(WarningPolicy.PASSING_WEIGHT, null, null));
    assertThat(endpoint(passing, "api-1").weight()).isEqualTo(10);
    assertThat(endpoint(passing, "api-1").zone()).as("no zone key").isEmpty();
    ConsulMapping.Mapped unhealthy =
        map("blk-change-warn", new ConsulMapping.Settings(WarningPolicy.UNHEALTHY, null, "zone"));
    assertThat(unhealthy.health().get("api-1").status()).isEqualTo(SourceHealth.Status.CRITICAL);
  }

  @Test
  void maintenanceCheckMeansMaintenanceWithTheReason() {
    ConsulMapping.Mapped m = map("blk-change-maintenance", DEFAULTS);
    SourceHealth h = m.health().get("api-2");
    assertThat(h.status()).isEqualTo(SourceHealth.Status.MAINTENANCE);
    assertThat(h.detail()).contains("_service_maintenance:api-2").contains("deploy");
  }

  @Test
  void deregisteredInstanceIsGoneAndAnUnknownServiceIsEmpty() {
    assertThat(map("blk-change-deregister", DEFAULTS).endpoints())
        .extracting(Endpoint::id)
        .containsExactly("api-1");
    assertThat(map("health-unknown", DEFAULTS).endpoints()).isEmpty();
  }

  @Test
  void weightMetaKeyOverridesAndBadValuesAreNamed() {
    String json =
        Captures.text("health-all")
            .replace("\"version\": \"1.0\"", "\"version\": \"1.0\", \"lb-weight\": \"7\"");
    var parsed = Captures.parseText(json);
    ConsulMapping.Mapped m =
        ConsulMapping.map(
            parsed, new ConsulMapping.Settings(WarningPolicy.WARNING_WEIGHT, "lb-weight", "zone"));
    assertThat(endpoint(m, "api-1").weight()).isEqualTo(7);
    String bad = json.replace("\"lb-weight\": \"7\"", "\"lb-weight\": \"heavy\"");
    ConsulMapping.Mapped m2 =
        ConsulMapping.map(
            Captures.parseText(bad),
            new ConsulMapping.Settings(WarningPolicy.WARNING_WEIGHT, "lb-weight", "zone"));
    assertThat(endpoint(m2, "api-1").weight()).as("falls back to Weights.Passing").isEqualTo(10);
    assertThat(m2.skipped()).anySatisfy(s -> assertThat(s).contains("lb-weight").contains("heavy"));
  }

  @Test
  void unroutableEntriesAreSkippedAndNamedAndCollidingIdsDisambiguated() {
    String json = Captures.text("health-all").replace("\"Port\": 18081", "\"Port\": 0");
    ConsulMapping.Mapped m = ConsulMapping.map(Captures.parseText(json), DEFAULTS);
    assertThat(m.endpoints()).extracting(Endpoint::id).containsExactly("api-1");
    assertThat(m.skipped()).singleElement().asString().contains("api-2").contains("port 0");

    String twins = Captures.text("health-all").replace("\"ID\": \"api-2\"", "\"ID\": \"api-1\"");
    ConsulMapping.Mapped t = ConsulMapping.map(Captures.parseText(twins), DEFAULTS);
    assertThat(t.endpoints()).extracting(Endpoint::id).containsExactly("api-1@vm", "api-1@vm");
    // Same node too: lb-core then rejects the set as a whole and keeps the last good one.
    assertThat(t.health()).isEmpty();
  }
}
