package io.miniloadbalancer.spring;

/** The shared real-application tests on Spring Boot 4.0 and Spring Cloud 2025.1. */
class Boot4ApplicationTest extends AbstractSpringBootApplicationTest {}
