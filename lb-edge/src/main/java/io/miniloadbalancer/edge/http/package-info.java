/**
 * What both listeners speak: the client-side deadlines ({@link
 * io.miniloadbalancer.edge.http.ClientTimeouts}), the proxy's own answers ({@link
 * io.miniloadbalancer.edge.http.HttpReplies}, {@link io.miniloadbalancer.edge.http.Json}), the
 * health paths, the one {@code Host} parser ({@link io.miniloadbalancer.edge.http.Authority}), the
 * log rate limit, and {@link io.miniloadbalancer.edge.http.Readiness}, the one thing the listeners
 * learn of the process around them.
 */
@NullMarked
package io.miniloadbalancer.edge.http;

import org.jspecify.annotations.NullMarked;
