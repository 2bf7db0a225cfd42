package io.miniloadbalancer.spring.app;

import io.miniloadbalancer.spring.EdgeBalancerExchangeFilter;
import io.miniloadbalancer.spring.EdgeBalancerInterceptor;
import java.util.List;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.client.loadbalancer.LoadBalanced;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestTemplate;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * The application the integration test runs on a real port: a service that calls the pool {@code
 * orders} with each kind of client. Opt-in per client: only the clients built here with the
 * starter's interceptor or filter are balanced. Shared by both starters' tests, so it uses no type
 * that moved between Boot 3.5 and 4.0 (Boot 4 moved {@code RestTemplateBuilder}): the RestClient
 * and WebClient builders are Boot's, the RestTemplates are plain.
 */
@SpringBootApplication
public class DemoApplication {

  public static void main(String[] args) {
    SpringApplication.run(DemoApplication.class, args);
  }

  /** Spring Cloud's way: an existing @LoadBalanced client, unchanged, now served by the pool. */
  @Bean
  @LoadBalanced
  RestTemplate cloudRestTemplate() {
    return new RestTemplate();
  }

  @RestController
  static class Calls {
    private final RestClient restClient;
    private final WebClient webClient;
    private final RestTemplate restTemplate;
    private final RestTemplate cloud;

    Calls(
        RestClient.Builder restClients,
        WebClient.Builder webClients,
        EdgeBalancerInterceptor edgeBalancer,
        EdgeBalancerExchangeFilter edgeBalancerFilter,
        @LoadBalanced RestTemplate cloudRestTemplate) {
      this.restClient =
          restClients.requestInterceptor(edgeBalancer).baseUrl("http://orders").build();
      this.webClient = webClients.filter(edgeBalancerFilter).baseUrl("http://orders").build();
      this.restTemplate = new RestTemplate();
      this.restTemplate.setInterceptors(List.of(edgeBalancer));
      this.cloud = cloudRestTemplate;
    }

    @GetMapping("/via/{client}")
    String via(@PathVariable String client) {
      return switch (client) {
        case "rest-client" -> restClient.get().uri("/items/7").retrieve().body(String.class);
        case "web-client" ->
            webClient.get().uri("/items/7").retrieve().bodyToMono(String.class).block();
        case "rest-template" -> restTemplate.getForObject("http://orders/items/7", String.class);
        case "spring-cloud" -> cloud.getForObject("http://orders/items/7", String.class);
        default -> throw new IllegalArgumentException(client);
      };
    }
  }
}
