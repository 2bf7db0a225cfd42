package io.miniloadbalancer.consul;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.SourceHealth;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.kiwiproject.consul.model.catalog.ServiceWeights;
import org.kiwiproject.consul.model.health.HealthCheck;
import org.kiwiproject.consul.model.health.Node;
import org.kiwiproject.consul.model.health.Service;
import org.kiwiproject.consul.model.health.ServiceHealth;

/**
 * Turns one {@code /v1/health/service/<name>} answer into endpoints and what Consul says of their
 * health. Pure: no I/O, no state, so it is tested on captured answers.
 *
 * <ul>
 *   <li>address: {@code Service.Address} when set, else {@code Node.Address} (Consul's rule);
 *   <li>weight: the meta key when configured and valid, else {@code Weights.Passing}; while
 *       warning, per {@link WarningPolicy};
 *   <li>zone: the configured meta key, else empty;
 *   <li>status: the worst of the instance's checks <em>and its node's</em> (a failed {@code
 *       serfHealth} means the node is gone); {@code _service_maintenance:<id>} or {@code
 *       _node_maintenance} means maintenance;
 *   <li>id: {@code Service.ID}; Consul only makes it unique per node, so ids that collide across
 *       nodes become {@code <id>@<node>}.
 * </ul>
 *
 * Entries that cannot be routed (port outside 1..65535, no address) are skipped and named.
 */
final class ConsulMapping {

  static final String NODE_MAINTENANCE = "_node_maintenance";
  static final String SERVICE_MAINTENANCE_PREFIX = "_service_maintenance:";

  /** Mapping settings. */
  record Settings(
      WarningPolicy warningPolicy, @Nullable String weightMetaKey, @Nullable String zoneMetaKey) {}

  /** One mapped answer. */
  record Mapped(List<Endpoint> endpoints, Map<String, SourceHealth> health, List<String> skipped) {}

  private ConsulMapping() {}

  static Mapped map(List<ServiceHealth> answer, Settings settings) {
    Map<String, Integer> idCounts = new HashMap<>();
    for (ServiceHealth sh : answer) {
      idCounts.merge(sh.getService().getId(), 1, Integer::sum);
    }
    List<Endpoint> endpoints = new ArrayList<>(answer.size());
    Map<String, SourceHealth> health = new LinkedHashMap<>();
    List<String> skipped = new ArrayList<>();
    for (ServiceHealth sh : answer) {
      Service svc = sh.getService();
      Node node = sh.getNode();
      String id = idCounts.get(svc.getId()) > 1 ? svc.getId() + "@" + node.getNode() : svc.getId();
      String host = notBlank(svc.getAddress()) ? svc.getAddress() : node.getAddress();
      if (!notBlank(host)) {
        skipped.add(id + ": no Service.Address and no Node.Address");
        continue;
      }
      if (svc.getPort() < 1 || svc.getPort() > 65_535) {
        skipped.add(id + ": port " + svc.getPort() + " is outside 1..65535");
        continue;
      }
      Status status = status(sh);
      int passingWeight = passingWeight(svc, settings, skipped, id);
      int warningWeight = svc.getWeights().map(ServiceWeights::getWarning).orElse(1);
      int weight = passingWeight;
      SourceHealth verdict = SourceHealth.passing();
      switch (status.kind) {
        case MAINTENANCE -> verdict = SourceHealth.maintenance("consul: maintenance" + status.why);
        case CRITICAL -> verdict = SourceHealth.critical("consul: critical" + status.why);
        case WARNING -> {
          switch (settings.warningPolicy()) {
            case WARNING_WEIGHT -> {
              if (warningWeight < 1) {
                verdict =
                    SourceHealth.critical("consul: warning with Weights.Warning 0" + status.why);
              } else {
                weight = Math.min(warningWeight, Endpoint.MAX_WEIGHT);
              }
            }
            case PASSING_WEIGHT -> {}
            case UNHEALTHY -> verdict = SourceHealth.critical("consul: warning" + status.why);
            default -> throw new AssertionError(settings.warningPolicy());
          }
        }
        case PASSING -> {}
        default -> throw new AssertionError(status.kind);
      }
      Map<String, String> metadata = new LinkedHashMap<>(svc.getMeta());
      metadata.put("consul.node", node.getNode());
      metadata.put("consul.service_id", svc.getId());
      metadata.put("consul.status", status.kind.name().toLowerCase(java.util.Locale.ROOT));
      if (!svc.getTags().isEmpty()) {
        metadata.put("consul.tags", String.join(",", svc.getTags()));
      }
      String zone =
          settings.zoneMetaKey() == null
              ? ""
              : svc.getMeta().getOrDefault(settings.zoneMetaKey(), "");
      endpoints.add(new Endpoint(id, host, svc.getPort(), weight, zone, metadata));
      if (verdict.status() != SourceHealth.Status.PASSING) {
        health.put(id, verdict);
      }
    }
    return new Mapped(endpoints, health, skipped);
  }

  private static int passingWeight(
      Service svc, Settings settings, List<String> skipped, String id) {
    String key = settings.weightMetaKey();
    if (key != null) {
      String raw = svc.getMeta().get(key);
      if (raw != null) {
        try {
          int w = Integer.parseInt(raw.trim());
          if (w >= 1 && w <= Endpoint.MAX_WEIGHT) {
            return w;
          }
        } catch (NumberFormatException e) {
          // Falls through to the note below.
        }
        skipped.add(
            id
                + ": meta '"
                + key
                + "' = '"
                + raw
                + "' is not a weight in 1.."
                + Endpoint.MAX_WEIGHT
                + "; using Weights.Passing");
      }
    }
    int w = svc.getWeights().map(ServiceWeights::getPassing).orElse(1);
    return Math.max(1, Math.min(w, Endpoint.MAX_WEIGHT));
  }

  private enum Kind {
    PASSING,
    WARNING,
    CRITICAL,
    MAINTENANCE
  }

  private record Status(Kind kind, String why) {}

  /** The worst check wins; maintenance beats everything. */
  private static Status status(ServiceHealth sh) {
    Kind worst = Kind.PASSING;
    @Nullable HealthCheck culprit = null;
    for (HealthCheck c : sh.getChecks()) {
      Kind k;
      if (c.getCheckId().equals(NODE_MAINTENANCE)
          || c.getCheckId().startsWith(SERVICE_MAINTENANCE_PREFIX)) {
        k = Kind.MAINTENANCE;
      } else {
        k =
            switch (c.getStatus()) {
              case "passing" -> Kind.PASSING;
              case "warning" -> Kind.WARNING;
              // "critical", and anything unknown: an unknown status is not a reason
              // to route.
              default -> Kind.CRITICAL;
            };
      }
      if (k.compareTo(worst) > 0) {
        worst = k;
        culprit = c;
      }
    }
    if (culprit == null) {
      return new Status(worst, "");
    }
    String text =
        culprit
            .getNotes()
            .filter(ConsulMapping::notBlank)
            .or(culprit::getOutput)
            .orElse("")
            .strip();
    if (text.length() > 160) {
      text = text.substring(0, 160) + "...";
    }
    return new Status(
        worst,
        " (check '" + culprit.getCheckId() + "'" + (text.isEmpty() ? "" : ": " + text) + ")");
  }

  private static boolean notBlank(@Nullable String s) {
    return s != null && !s.isBlank();
  }
}
