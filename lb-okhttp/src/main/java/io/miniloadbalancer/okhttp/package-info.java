/**
 * OkHttp adapter: {@link io.miniloadbalancer.okhttp.LoadBalancingInterceptor} routes requests for
 * logical hosts through lb-core balancers; {@link io.miniloadbalancer.okhttp.OkHttpHealthProbe}
 * probes endpoints with an {@code OkHttpClient}.
 */
@NullMarked
package io.miniloadbalancer.okhttp;

import org.jspecify.annotations.NullMarked;
