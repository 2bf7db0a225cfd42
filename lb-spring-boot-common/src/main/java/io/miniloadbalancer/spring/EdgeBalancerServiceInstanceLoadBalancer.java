package io.miniloadbalancer.spring;

import static java.util.Objects.requireNonNull;

import io.miniloadbalancer.core.Endpoint;
import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.LoadBalancer;
import io.miniloadbalancer.core.NoEndpointAvailableException;
import io.miniloadbalancer.core.RequestContext;
import java.net.URI;
import java.util.Map;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.loadbalancer.CompletionContext;
import org.springframework.cloud.client.loadbalancer.DefaultResponse;
import org.springframework.cloud.client.loadbalancer.EmptyResponse;
import org.springframework.cloud.client.loadbalancer.LoadBalancerLifecycle;
import org.springframework.cloud.client.loadbalancer.Request;
import org.springframework.cloud.client.loadbalancer.Response;
import org.springframework.cloud.client.loadbalancer.ResponseData;
import org.springframework.cloud.loadbalancer.core.ReactorServiceInstanceLoadBalancer;
import reactor.core.publisher.Mono;

/**
 * A Spring Cloud LoadBalancer backed by an Edge Balancer pool: {@code @LoadBalanced} clients whose
 * service id is the pool's name get the pool's strategy, health, drain states and outcome feedback,
 * without code changes.
 *
 * <p>Each {@link #choose} takes a lease, carried by the returned {@link ServiceInstance}; Spring
 * Cloud's lifecycle callback ({@link #onComplete}) ends it with the answer's outcome (lb-okhttp's
 * rules: 5xx and 429 fail, 429 and 503 with {@code Retry-After} penalize), a failed request as a
 * failure, a discarded one as cancelled. Unlike this starter's own clients, the lease ends when
 * Spring Cloud reports completion (the response head), not when the body has been read; and an
 * instance taken with {@code LoadBalancerClient.choose} and never executed keeps its lease, so use
 * the clients rather than {@code choose}. Retries stay Spring Cloud's (spring-retry), not the
 * pool's budgeted ones. Thread-safe.
 */
public final class EdgeBalancerServiceInstanceLoadBalancer
    implements ReactorServiceInstanceLoadBalancer,
        LoadBalancerLifecycle<Object, Object, ServiceInstance> {

  private final String serviceId;
  private final LoadBalancer balancer;

  /**
   * A bridge for one service id.
   *
   * @param serviceId the Spring Cloud service id (the pool's name)
   * @param balancer the pool
   */
  public EdgeBalancerServiceInstanceLoadBalancer(String serviceId, LoadBalancer balancer) {
    this.serviceId = requireNonNull(serviceId, "serviceId");
    this.balancer = requireNonNull(balancer, "balancer");
  }

  // Raw types: Spring Cloud's interfaces declare these parameters raw.
  @Override
  @SuppressWarnings("rawtypes")
  public Mono<Response<ServiceInstance>> choose(Request request) {
    try {
      Lease lease = balancer.acquire(RequestContext.none());
      return Mono.just(new DefaultResponse(new LeaseInstance(serviceId, lease)));
    } catch (NoEndpointAvailableException e) {
      return Mono.just(new EmptyResponse());
    }
  }

  @Override
  @SuppressWarnings("rawtypes")
  public boolean supports(Class requestContextClass, Class responseClass, Class serverTypeClass) {
    return ServiceInstance.class.isAssignableFrom(serverTypeClass);
  }

  @Override
  public void onStart(Request<Object> request) {}

  @Override
  public void onStartRequest(Request<Object> request, Response<ServiceInstance> lbResponse) {}

  @Override
  public void onComplete(CompletionContext<Object, ServiceInstance, Object> context) {
    Response<ServiceInstance> response = context.getLoadBalancerResponse();
    if (response == null || !(response.getServer() instanceof LeaseInstance instance)) {
      return;
    }
    Lease lease = instance.lease;
    long latency = System.nanoTime() - instance.chosenNanos;
    switch (context.status()) {
      case SUCCESS -> {
        if (context.getClientResponse() instanceof ResponseData data
            && data.getHttpStatus() != null) {
          int status = data.getHttpStatus().value();
          HttpOutcomes.overloadIfAsked(
              lease,
              status,
              data.getHeaders() == null ? null : data.getHeaders().getFirst("Retry-After"),
              latency);
          if (HttpOutcomes.isFailure(status)) {
            lease.complete(io.miniloadbalancer.core.Outcome.FAILURE, latency);
          } else {
            lease.complete(io.miniloadbalancer.core.Outcome.SUCCESS, latency);
          }
        } else {
          lease.complete(io.miniloadbalancer.core.Outcome.SUCCESS, latency);
        }
      }
      case FAILED -> lease.complete(io.miniloadbalancer.core.Outcome.FAILURE, latency);
      default -> lease.close();
    }
  }

  @Override
  public String toString() {
    return "EdgeBalancerServiceInstanceLoadBalancer[" + serviceId + " -> " + balancer.name() + "]";
  }

  /** The chosen endpoint as a Spring Cloud instance, carrying its lease to {@link #onComplete}. */
  static final class LeaseInstance implements ServiceInstance {
    private final String serviceId;
    private final Lease lease;
    private final long chosenNanos = System.nanoTime();

    LeaseInstance(String serviceId, Lease lease) {
      this.serviceId = serviceId;
      this.lease = lease;
    }

    @Override
    public String getInstanceId() {
      return lease.endpoint().id();
    }

    @Override
    public String getServiceId() {
      return serviceId;
    }

    @Override
    public String getHost() {
      return lease.endpoint().host();
    }

    @Override
    public int getPort() {
      return lease.endpoint().port();
    }

    @Override
    public boolean isSecure() {
      return false;
    }

    @Override
    public URI getUri() {
      Endpoint e = lease.endpoint();
      return URI.create("http://" + e.authority());
    }

    @Override
    public Map<String, String> getMetadata() {
      return lease.endpoint().metadata();
    }

    @Override
    public String toString() {
      return "LeaseInstance[" + serviceId + " " + lease.endpoint().id() + "]";
    }
  }
}
