/**
 * What only Spring Boot 3.5 needs: the pools' health contributor. Everything else is in {@code
 * io.miniloadbalancer.spring} (lb-spring-boot-common).
 */
@NullMarked
package io.miniloadbalancer.spring.boot3;

import org.jspecify.annotations.NullMarked;
