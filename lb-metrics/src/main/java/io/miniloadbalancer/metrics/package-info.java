/**
 * Micrometer binding for the balancer.
 *
 * <p>Not built yet: this module only holds its place in the reactor until its issue lands.
 */
@NullMarked
package io.miniloadbalancer.metrics;

import org.jspecify.annotations.NullMarked;
