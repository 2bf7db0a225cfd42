/**
 * Edge Balancer's Spring Boot starter: pools from properties, HTTP client routing, a Spring Cloud
 * LoadBalancer bridge, metrics, Actuator endpoint and health, graceful drain.
 */
@NullMarked
package io.miniloadbalancer.spring;

import org.jspecify.annotations.NullMarked;
