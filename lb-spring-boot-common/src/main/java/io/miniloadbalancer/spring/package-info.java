/**
 * Edge Balancer in Spring Boot, the part both starters share: pools from properties, HTTP client
 * routing, a Spring Cloud LoadBalancer bridge, metrics, the Actuator endpoint, graceful drain.
 * Applications depend on {@code lb-spring-boot-starter} (Boot 3.5) or {@code
 * lb-spring-boot4-starter} (Boot 4.0), which add their line's health contributor.
 */
@NullMarked
package io.miniloadbalancer.spring;

import org.jspecify.annotations.NullMarked;
