package io.miniloadbalancer.okhttp;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.HttpOutcomes;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.RetryExecutor;
import io.miniloadbalancer.core.RetryPolicy;
import io.miniloadbalancer.core.RetryResult;
import io.miniloadbalancer.core.StreamingResult;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * An OkHttp application interceptor that sends requests for logical hosts to endpoints chosen by
 * lb-core balancers, one balancer per logical host:
 *
 * <pre>{@code
 * OkHttpClient client = base.newBuilder()
 *     .addInterceptor(LoadBalancingInterceptor.builder().route("orders", ordersBalancer).build())
 *     .build();
 * client.newCall(new Request.Builder().url("http://orders/api/items?id=7").build()).execute();
 * }</pre>
 *
 * <h2>What it does to a request</h2>
 *
 * <p>A request whose URL host is a configured logical name has its host and port replaced by the
 * chosen endpoint's; scheme, path, query, headers and body are kept. By default the {@code Host}
 * header is then the endpoint's address (OkHttp derives it from the URL), which is what plain
 * backends expect; {@link Builder#preserveHostHeader} keeps the logical name instead, for backends
 * behind virtual hosting. Requests to any other host pass through untouched.
 *
 * <h2>Leases, outcomes, latency</h2>
 *
 * <p>Each attempt holds a lease until its response body is fully read or closed (not when the
 * headers arrive), so in-flight counts include streaming bodies; cancellation, timeouts and
 * exceptions end it too, exactly once. Outcomes: connection failures, timeouts and 5xx are
 * failures; 429, and 503 with {@code Retry-After}, penalize the endpoint for the time asked (not an
 * ejection); everything else is a success. Latency is measured to the response headers: it is what
 * the endpoint controls, whereas the body's end also depends on how fast the caller reads.
 *
 * <h2>Retries</h2>
 *
 * <p>Failover goes through lb-core's {@link RetryExecutor}: only idempotent requests (GET, HEAD,
 * OPTIONS, PUT, DELETE, TRACE; or a request carrying an {@code Idempotency-Key} header or a {@link
 * LoadBalancingTag} with {@code idempotent}), never a request whose body is one-shot, each attempt
 * on an endpoint not yet tried, within the balancer's retry budget. Add it with {@code
 * addInterceptor} (an application interceptor): its retries then wrap OkHttp's own. OkHttp's {@code
 * retryOnConnectionFailure} may still silently retry a failed connection once to the same endpoint
 * (a stale pooled connection, say); the balancer's retries are the ones that move to another
 * endpoint, and they are the ones the budget bounds. As a network interceptor it would see a
 * connection already made to the logical host, so it refuses to run there.
 *
 * <h2>Errors</h2>
 *
 * <p>Failures the balancer can explain are {@link LoadBalancerIOException}s: no endpoint available
 * (with the pool's state), retry budget exhausted, all attempts failed (with each attempt's
 * endpoint and cause). A failed response that is not retried (a POST's 503, the last attempt's 5xx)
 * is returned to the caller as a response.
 */
public final class LoadBalancingInterceptor implements Interceptor {

  private record Route(String logicalHost, LoadBalancer balancer, RetryExecutor retries) {}

  private final Map<String, Route> routes;
  private final @Nullable String hashKeyHeader;
  private final boolean preserveHostHeader;

  private LoadBalancingInterceptor(Builder b) {
    Map<String, Route> map = new HashMap<>();
    b.balancers.forEach(
        (host, balancer) ->
            map.put(host, new Route(host, balancer, balancer.retries(b.retryPolicy))));
    this.routes = Map.copyOf(map);
    this.hashKeyHeader = b.hashKeyHeader;
    this.preserveHostHeader = b.preserveHostHeader;
  }

  /**
   * A builder with no routes yet.
   *
   * @return a builder with no routes yet
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    Request request = chain.request();
    Route route = routes.get(request.url().host());
    if (route == null) {
      return chain.proceed(request);
    }
    if (chain.connection() != null) {
      // An IOException, not an unchecked one: on an async call that would kill a dispatcher
      // thread.
      throw new IOException(
          "LoadBalancingInterceptor must be added with addInterceptor, not"
              + " addNetworkInterceptor");
    }
    long callStart = System.nanoTime();
    // The final response's lease stays open in `result` until its body is consumed: LeaseBody
    // takes it over, and every other attempt's lease is the executor's to end.
    StreamingResult<Response> result =
        route
            .retries()
            .executeStreaming(
                context(request),
                retryable(request),
                LoadBalancingInterceptor::isFailure,
                Response::close,
                lease -> attempt(chain, request, lease, callStart));
    Response response = result.value();
    if (response == null) {
      throw failure(route, result.result());
    }
    return response
        .newBuilder()
        .body(new LeaseBody(response.body(), chain.call(), callStart, result))
        .build();
  }

  private Response attempt(Chain chain, Request request, Lease lease, long callStart)
      throws IOException {
    Endpoint endpoint = lease.endpoint();
    HttpUrl url = request.url().newBuilder().host(endpoint.host()).port(endpoint.port()).build();
    Request.Builder rewritten = request.newBuilder().url(url);
    if (preserveHostHeader && request.header("Host") == null) {
      rewritten.header("Host", request.url().host());
    }
    long start = System.nanoTime();
    Response response;
    try {
      response = chain.proceed(rewritten.build());
    } catch (IOException e) {
      if (chain.call().isCanceled()) {
        // No retry either way; a call timeout (OkHttp cancels the call) still fails the
        // endpoint,
        // which the executor cannot tell from a cancel: say it here, before it closes the
        // lease.
        if (!cancelledByCaller(chain.call(), e, callStart)) {
          lease.failure();
        }
        CancellationException stop = new CancellationException("call canceled or timed out");
        stop.initCause(e);
        throw stop;
      }
      throw e;
    }
    Duration retryAfter =
        HttpOutcomes.retryAfter(response.header(HttpOutcomes.RETRY_AFTER), Instant.now());
    if (HttpOutcomes.outcome(response.code(), retryAfter != null) == Outcome.OVERLOADED) {
      // Overloaded, not broken: the executor only knows failure or success, so the attempt
      // ends its own lease with the pause asked for (the body of such an answer is not worth
      // counting as in flight).
      if (retryAfter != null) {
        lease.overloaded(retryAfter);
      } else {
        lease.complete(Outcome.OVERLOADED, System.nanoTime() - start);
      }
    }
    return response;
  }

  /**
   * Whether {@code e} comes from the caller cancelling, as opposed to OkHttp's call timeout. Both
   * cancel the call, and inside the chain both surface as "Canceled" (OkHttp turns a timeout into
   * {@code InterruptedIOException("timeout")} only after the interceptors return), so a call that
   * has run for its whole call timeout is taken as timed out.
   */
  static boolean cancelledByCaller(okhttp3.Call call, IOException e, long callStartNanos) {
    if (!call.isCanceled()) {
      return false;
    }
    if (e instanceof java.io.InterruptedIOException && "timeout".equals(e.getMessage())) {
      return false;
    }
    long callTimeout = call.timeout().timeoutNanos();
    // The interceptor starts a little after OkHttp's timeout clock: allow a tenth, at most 50
    // ms.
    long slack = Math.min(callTimeout / 10, 50_000_000L);
    return callTimeout == 0 || System.nanoTime() - callStartNanos < callTimeout - slack;
  }

  private static boolean isFailure(Response response) {
    return HttpOutcomes.isRetryable(response.code());
  }

  private RequestContext context(Request request) {
    LoadBalancingTag tag = request.tag(LoadBalancingTag.class);
    String key = tag != null ? tag.hashKey() : null;
    if (key == null && hashKeyHeader != null) {
      key = request.header(hashKeyHeader);
    }
    return key == null ? RequestContext.none() : RequestContext.ofKey(key);
  }

  private static boolean retryable(Request request) {
    RequestBody body = request.body();
    if (body != null && body.isOneShot()) {
      return false;
    }
    LoadBalancingTag tag = request.tag(LoadBalancingTag.class);
    return HttpOutcomes.isIdempotent(
            request.method(), request.header(HttpOutcomes.IDEMPOTENCY_KEY) != null)
        || (tag != null && tag.idempotent());
  }

  private static IOException failure(Route route, RetryResult<Response> result) {
    Throwable error = result.error();
    if (error instanceof CancellationException && error.getCause() instanceof IOException io) {
      return io;
    }
    if (error instanceof NoEndpointAvailableException e) {
      return new LoadBalancerIOException(
          LoadBalancerIOException.Kind.NO_ENDPOINT,
          "no endpoint available for '" + route.logicalHost() + "': " + e.getMessage(),
          result.attempts(),
          e);
    }
    LoadBalancerIOException.Kind kind =
        result.budgetExhausted()
            ? LoadBalancerIOException.Kind.BUDGET_EXHAUSTED
            : LoadBalancerIOException.Kind.ALL_ATTEMPTS_FAILED;
    String what = result.budgetExhausted() ? "retry budget exhausted" : "all attempts failed";
    return new LoadBalancerIOException(
        kind,
        what + " for '" + route.logicalHost() + "': " + result.describe(),
        result.attempts(),
        error);
  }

  /** Configures a {@link LoadBalancingInterceptor}. */
  public static final class Builder {

    private final Map<String, LoadBalancer> balancers = new HashMap<>();
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private @Nullable String hashKeyHeader;
    private boolean preserveHostHeader;

    private Builder() {}

    /**
     * Sends requests for {@code logicalHost} (the URL's host, for example {@code orders}) through
     * {@code balancer}.
     *
     * @param logicalHost the name requests use as their URL host
     * @param balancer the balancer that chooses its endpoints
     * @return this builder
     * @throws IllegalArgumentException when the host already has a balancer
     */
    public Builder route(String logicalHost, LoadBalancer balancer) {
      requireNonNull(logicalHost, "logicalHost");
      requireNonNull(balancer, "balancer");
      String host = logicalHost.toLowerCase(Locale.ROOT);
      if (balancers.putIfAbsent(host, balancer) != null) {
        throw new IllegalArgumentException("logical host '" + host + "' already has a balancer");
      }
      return this;
    }

    /**
     * How requests are retried. Default {@link RetryPolicy#defaults()}: one retry.
     *
     * @param policy how requests are retried
     * @return this builder
     */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = requireNonNull(policy, "policy");
      return this;
    }

    /**
     * The request header whose value is the hash key for {@code ring-hash} and {@code maglev}.
     * Default none (a {@link LoadBalancingTag} still works).
     *
     * @param header the request header whose value is the hash key for {@code ring-hash} and {@code
     *     maglev}
     * @return this builder
     */
    public Builder hashKeyHeader(String header) {
      this.hashKeyHeader = requireNonNull(header, "header");
      return this;
    }

    /**
     * Whether to send the logical host as the {@code Host} header instead of the endpoint's
     * address. Default false.
     *
     * @param preserve whether to send the logical host as the {@code Host} header instead of the
     *     endpoint's address
     * @return this builder
     */
    public Builder preserveHostHeader(boolean preserve) {
      this.preserveHostHeader = preserve;
      return this;
    }

    /**
     * A frozen interceptor.
     *
     * @return a frozen interceptor
     * @throws IllegalStateException when no route is configured
     */
    public LoadBalancingInterceptor build() {
      if (balancers.isEmpty()) {
        throw new IllegalStateException("configure at least one route(logicalHost, balancer)");
      }
      return new LoadBalancingInterceptor(this);
    }
  }
}
