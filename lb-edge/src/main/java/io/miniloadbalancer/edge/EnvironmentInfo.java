package io.miniloadbalancer.edge;

import com.fasterxml.jackson.databind.JsonNode;
import io.miniloadbalancer.edge.http.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * Where the proxy runs, from ECS task metadata v4 when {@code ECS_CONTAINER_METADATA_URI_V4} is set
 * ({@code <uri>/task}: task ARN, availability zone, the task's IPv4 address). Shown by the admin
 * plane; the task IP is what a Consul self-registration should advertise.
 *
 * @param taskArn the ECS task's ARN, or null off ECS
 * @param availabilityZone the task's availability zone, or null off ECS
 * @param taskIp the task's IPv4 address, or null off ECS
 * @param source where these facts came from, in words
 */
public record EnvironmentInfo(
    @Nullable String taskArn,
    @Nullable String availabilityZone,
    @Nullable String taskIp,
    String source) {

  /**
   * Not on ECS: no task facts.
   *
   * @return facts that say the proxy does not run on ECS
   */
  public static EnvironmentInfo none() {
    return new EnvironmentInfo(
        null, null, null, "not on ECS (ECS_CONTAINER_METADATA_URI_V4 unset)");
  }

  /**
   * Reads the task's facts when {@code env} points at ECS task metadata; never fails (an
   * unreachable endpoint is reported in {@code source}).
   *
   * @param env the process environment
   * @return the facts found
   */
  public static EnvironmentInfo fromEnvironment(Map<String, String> env) {
    String uri = env.get("ECS_CONTAINER_METADATA_URI_V4");
    if (uri == null || uri.isBlank()) {
      return none();
    }
    try {
      HttpResponse<String> r =
          HttpClient.newBuilder()
              .connectTimeout(Duration.ofSeconds(1))
              .build()
              .send(
                  HttpRequest.newBuilder(URI.create(uri + "/task"))
                      .timeout(Duration.ofSeconds(2))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return new EnvironmentInfo(null, null, null, "ECS metadata answered " + r.statusCode());
      }
      JsonNode task = Json.MAPPER.readTree(r.body());
      String ip = null;
      for (JsonNode c : task.path("Containers")) {
        JsonNode addr = c.path("Networks").path(0).path("IPv4Addresses").path(0);
        if (addr.isTextual()) {
          ip = addr.asText();
          break;
        }
      }
      return new EnvironmentInfo(
          text(task.get("TaskARN")),
          text(task.get("AvailabilityZone")),
          ip,
          "ECS task metadata v4");
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      LoggerFactory.getLogger(EnvironmentInfo.class)
          .warn("ECS task metadata unreadable: {}", e.toString());
      return new EnvironmentInfo(null, null, null, "ECS metadata unreadable: " + e.getMessage());
    }
  }

  private static @Nullable String text(@Nullable JsonNode n) {
    return n == null || !n.isTextual() ? null : n.asText();
  }
}
