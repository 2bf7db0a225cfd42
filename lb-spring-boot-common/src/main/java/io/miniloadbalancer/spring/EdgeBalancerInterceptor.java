package io.miniloadbalancer.spring;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.RetryResult;
import io.miniloadbalancer.core.StreamingResult;
import java.io.IOException;
import java.net.URI;
import org.springframework.http.HttpRequest;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.http.client.support.HttpRequestWrapper;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * Routes {@code RestClient} and {@code RestTemplate} requests for {@code http://<pool>/...} through
 * the pool; requests to any other host pass through untouched. Added per client, never globally:
 *
 * <pre>{@code
 * RestClient orders = builder.requestInterceptor(edgeBalancer).baseUrl("http://orders").build();
 * RestTemplate legacy = restTemplateBuilder.additionalInterceptors(edgeBalancer).build();
 * }</pre>
 *
 * <p>The URL's host and port become the chosen endpoint's; the rest of the request is kept. Each
 * attempt holds a lease until the response body is read to its end or the response is closed
 * (RestClient and RestTemplate close it once they have read it), so in-flight counts include the
 * body. Outcomes, retries and errors follow lb-okhttp's rules (see {@code HttpOutcomes}): 5xx and
 * 429 fail the attempt; idempotent requests are retried on an untried endpoint within the pool's
 * retry budget; when no attempt produced an answer the call fails with an {@link IOException} that
 * says what each attempt did (RestClient wraps it in a {@code ResourceAccessException}).
 *
 * <p>Put it last among a client's interceptors: a retry re-runs the interceptors after it.
 * Thread-safe.
 */
public final class EdgeBalancerInterceptor implements ClientHttpRequestInterceptor {

  private final EdgeBalancerPools pools;

  /**
   * An interceptor over the application's pools.
   *
   * @param pools the pools; a request's URL host picks one by name
   */
  public EdgeBalancerInterceptor(EdgeBalancerPools pools) {
    this.pools = requireNonNull(pools, "pools");
  }

  private record Answer(ClientHttpResponse response, int status) {}

  @Override
  public ClientHttpResponse intercept(
      HttpRequest request, byte[] body, ClientHttpRequestExecution execution) throws IOException {
    EdgeBalancerPools.Pool pool = pools.pool(request.getURI().getHost());
    if (pool == null) {
      return execution.execute(request, body);
    }
    boolean idempotent =
        HttpOutcomes.retryable(
            request.getMethod().name(),
            request.getHeaders().getFirst(HttpOutcomes.IDEMPOTENCY_KEY) != null);
    StreamingResult<Answer> result =
        pool.retries()
            .executeStreaming(
                context(pool, request),
                idempotent,
                a -> HttpOutcomes.isFailure(a.status()),
                a -> a.response().close(),
                lease -> attempt(request, body, execution, lease));
    Answer answer = result.value();
    if (answer == null) {
      throw failure(pool.name(), result.result());
    }
    return new LeaseResponse(answer.response(), result);
  }

  private static Answer attempt(
      HttpRequest request, byte[] body, ClientHttpRequestExecution execution, Lease lease)
      throws IOException {
    Endpoint endpoint = lease.endpoint();
    URI uri =
        UriComponentsBuilder.fromUri(request.getURI())
            .host(endpoint.host())
            .port(endpoint.port())
            .build(true)
            .toUri();
    HttpRequest routed =
        new HttpRequestWrapper(request) {
          @Override
          public URI getURI() {
            return uri;
          }
        };
    long start = System.nanoTime();
    ClientHttpResponse response = execution.execute(routed, body);
    int status = response.getStatusCode().value();
    HttpOutcomes.overloadIfAsked(
        lease, status, response.getHeaders().getFirst("Retry-After"), System.nanoTime() - start);
    return new Answer(response, status);
  }

  private static RequestContext context(EdgeBalancerPools.Pool pool, HttpRequest request) {
    String header = pool.hashKeyHeader();
    String key = header == null ? null : request.getHeaders().getFirst(header);
    return key == null ? RequestContext.none() : RequestContext.ofKey(key);
  }

  static IOException failure(String pool, RetryResult<?> result) {
    Throwable error = result.error();
    if (error instanceof NoEndpointAvailableException e) {
      return new IOException("no endpoint available for '" + pool + "': " + e.getMessage(), e);
    }
    String what = result.budgetExhausted() ? "retry budget exhausted" : "all attempts failed";
    return new IOException(what + " for '" + pool + "': " + result.describe(), error);
  }
}
