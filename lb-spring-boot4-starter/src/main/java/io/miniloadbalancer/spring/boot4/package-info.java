/**
 * What only Spring Boot 4.0 (health moved to {@code org.springframework.boot.health}) needs: the
 * pools' health contributor. Everything else is in {@code io.miniloadbalancer.spring}
 * (lb-spring-boot-common).
 */
@NullMarked
package io.miniloadbalancer.spring.boot4;

import org.jspecify.annotations.NullMarked;
