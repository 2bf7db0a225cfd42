package io.miniloadbalancer.core.spi;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.ProbeResult;
import java.util.concurrent.CompletionStage;

/**
 * An active health check of one endpoint: a TCP connect, an HTTP request, anything the caller can
 * judge. Built in: {@link io.miniloadbalancer.core.HealthProbes#tcp} and {@link
 * io.miniloadbalancer.core.HealthProbes#http}; lb-okhttp adds one on an {@code OkHttpClient}.
 *
 * <p>Every result goes through the balancer's rise/fall thresholds: one failed probe never takes an
 * endpoint down and one good probe never brings it back, whatever the failure (an unexpected status
 * counts like a refused connection). A probe should be asynchronous and honour its own timeout; the
 * balancer also fails a probe that has not answered within its configured timeout.
 */
@FunctionalInterface
public interface HealthProbe {

  /**
   * Checks {@code endpoint}; completes with the verdict, or exceptionally (a failed check).
   *
   * @param endpoint the endpoint to check
   * @return the completion stage
   */
  CompletionStage<ProbeResult> check(Endpoint endpoint);
}
