/**
 * The bundled edge proxy: lb-core's balancers behind a Netty HTTP/1.1 server, with a data plane
 * ({@code /proxy/<pool>/...}), a control plane ({@code /admin/*}, {@code /metrics}) and health
 * endpoints, configured by YAML plus environment overrides. Run it with {@link
 * io.miniloadbalancer.edge.EdgeMain}.
 */
@NullMarked
package io.miniloadbalancer.edge;

import org.jspecify.annotations.NullMarked;
