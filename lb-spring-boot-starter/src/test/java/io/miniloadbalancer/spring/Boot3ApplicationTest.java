package io.miniloadbalancer.spring;

/** The shared real-application tests on Spring Boot 3.5 and Spring Cloud 2025.0. */
class Boot3ApplicationTest extends AbstractSpringBootApplicationTest {}
