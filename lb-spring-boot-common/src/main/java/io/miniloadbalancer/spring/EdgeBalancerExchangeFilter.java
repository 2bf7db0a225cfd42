package io.miniloadbalancer.spring;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.RequestContext;
import io.miniloadbalancer.core.RetryExecutor;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.ExchangeFunction;
import org.springframework.web.util.UriComponentsBuilder;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * Routes {@code WebClient} requests for {@code http://<pool>/...} through the pool, without
 * blocking; requests to any other host pass through untouched. Added per client:
 *
 * <pre>{@code
 * WebClient orders = webClientBuilder.filter(edgeBalancerFilter).baseUrl("http://orders").build();
 * }</pre>
 *
 * <p>The same rules as {@link EdgeBalancerInterceptor} (and lb-okhttp): the lease follows the
 * response body (it ends when the body completes, errors or is cancelled; consume or release every
 * body, as WebClient asks anyway), 5xx and 429 fail the attempt, 429 and 503 with {@code
 * Retry-After} penalize the endpoint, and idempotent requests are retried on an untried endpoint
 * within the pool's budget, the backoff waited on a timer rather than a thread. The decisions are
 * lb-core's ({@link RetryExecutor#track}); this class only runs the loop. Thread-safe.
 */
public final class EdgeBalancerExchangeFilter implements ExchangeFilterFunction {

  private final EdgeBalancerPools pools;

  /**
   * A filter over the application's pools.
   *
   * @param pools the pools; a request's URL host picks one by name
   */
  public EdgeBalancerExchangeFilter(EdgeBalancerPools pools) {
    this.pools = requireNonNull(pools, "pools");
  }

  @Override
  public Mono<ClientResponse> filter(ClientRequest request, ExchangeFunction next) {
    EdgeBalancerPools.Pool pool = pools.pool(request.url().getHost());
    if (pool == null) {
      return next.exchange(request);
    }
    return Mono.defer(
        () -> {
          boolean idempotent =
              HttpOutcomes.retryable(
                  request.method().name(),
                  request.headers().getFirst(HttpOutcomes.IDEMPOTENCY_KEY) != null);
          Call call = new Call(pool, request, next, pool.retries().track(idempotent));
          String header = pool.hashKeyHeader();
          String key = header == null ? null : request.headers().getFirst(header);
          return call.first(key == null ? RequestContext.none() : RequestContext.ofKey(key));
        });
  }

  /** One request's attempts; one attempt at a time touches its state. */
  private static final class Call {
    private final EdgeBalancerPools.Pool pool;
    private final ClientRequest request;
    private final ExchangeFunction next;
    private final RetryExecutor.RetryTracker tracker;
    private final List<String> story = new ArrayList<>();

    Call(
        EdgeBalancerPools.Pool pool,
        ClientRequest request,
        ExchangeFunction next,
        RetryExecutor.RetryTracker tracker) {
      this.pool = pool;
      this.request = request;
      this.next = next;
      this.tracker = tracker;
    }

    /** The next attempt's lease, with the backoff to wait first. */
    private record Next(RequestContext ctx, Lease lease, long backoffNanos) {}

    Mono<ClientResponse> first(RequestContext ctx) {
      Lease lease;
      try {
        lease = pool.balancer().acquire(ctx);
      } catch (NoEndpointAvailableException e) {
        return Mono.error(
            new IOException(
                "no endpoint available for '" + pool.name() + "': " + e.getMessage(), e));
      }
      return send(ctx, lease);
    }

    private Mono<ClientResponse> send(RequestContext ctx, Lease lease) {
      Endpoint endpoint = lease.endpoint();
      URI uri =
          UriComponentsBuilder.fromUri(request.url())
              .host(endpoint.host())
              .port(endpoint.port())
              .build(true)
              .toUri();
      long start = System.nanoTime();
      // Set once the lease is someone else's to end: the response body's, or ended for a
      // retry.
      AtomicBoolean settled = new AtomicBoolean();
      // materialize: a retry's answer comes out of this stage's flatMap without being judged
      // again.
      return next.exchange(ClientRequest.from(request).url(uri).build())
          .materialize()
          .flatMap(
              signal -> {
                ClientResponse response = signal.get();
                if (response != null) {
                  return answered(ctx, lease, response, start, settled);
                }
                Throwable error = signal.getThrowable();
                return error != null ? failed(ctx, lease, error, settled) : Mono.empty();
              })
          .doOnCancel(
              () -> {
                if (!settled.get()) {
                  lease.close(); // the caller gave up: says nothing about the
                  // endpoint
                }
              });
    }

    private Mono<ClientResponse> answered(
        RequestContext ctx,
        Lease lease,
        ClientResponse response,
        long start,
        AtomicBoolean settled) {
      int status = response.statusCode().value();
      long latency = System.nanoTime() - start;
      HttpOutcomes.overloadIfAsked(
          lease, status, response.headers().asHttpHeaders().getFirst("Retry-After"), latency);
      boolean failed = HttpOutcomes.isFailure(status);
      if (failed) {
        story.add(lease.endpoint().id() + ": status " + status);
        Next n = next(ctx, lease.endpoint());
        if (n != null) {
          settled.set(true);
          lease.complete(Outcome.FAILURE, latency);
          return response.releaseBody().then(later(n));
        }
      }
      settled.set(true);
      Outcome outcome = failed ? Outcome.FAILURE : Outcome.SUCCESS;
      return Mono.just(
          response
              .mutate()
              .body(
                  body ->
                      body.doFinally(
                          signal -> {
                            if (signal == SignalType.ON_ERROR) {
                              lease.failure(); // the body broke on
                              // the endpoint's
                              // side
                            } else if (signal == SignalType.CANCEL) {
                              lease.close();
                            } else {
                              lease.complete(outcome, latency);
                            }
                          }))
              .build());
    }

    private Mono<ClientResponse> failed(
        RequestContext ctx, Lease lease, Throwable error, AtomicBoolean settled) {
      settled.set(true);
      lease.failure();
      story.add(lease.endpoint().id() + ": " + error);
      Next n = next(ctx, lease.endpoint());
      if (n != null) {
        return later(n);
      }
      String what = tracker.budgetExhausted() ? "retry budget exhausted" : "all attempts failed";
      return Mono.error(new IOException(what + " for '" + pool.name() + "': " + story, error));
    }

    /** Asks lb-core for a retry and an untried endpoint; null when either is refused. */
    private Next next(RequestContext ctx, Endpoint failed) {
      long backoff = tracker.grant();
      if (backoff < 0) {
        return null;
      }
      RequestContext nextCtx = ctx.excluding(failed.id());
      try {
        return new Next(nextCtx, pool.balancer().acquire(nextCtx), backoff);
      } catch (NoEndpointAvailableException e) {
        tracker.refund();
        story.add("no untried endpoint left");
        return null;
      }
    }

    private Mono<ClientResponse> later(Next n) {
      return Mono.delay(Duration.ofNanos(n.backoffNanos()))
          .doOnCancel(n.lease()::close)
          .then(Mono.defer(() -> send(n.ctx(), n.lease())));
    }
  }
}
