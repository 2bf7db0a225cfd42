/**
 * OkHttp adapter for the balancer: an interceptor that routes logical hosts through lb-core.
 *
 * <p>Not built yet: this module only holds its place in the reactor until its issue lands.
 */
@NullMarked
package io.miniloadbalancer.okhttp;

import org.jspecify.annotations.NullMarked;
