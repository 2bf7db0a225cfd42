/**
 * The bundled edge proxy: lb-core's balancers behind a Netty HTTP/1.1 server, with a data plane
 * ({@code /proxy/<pool>/...}), a control plane ({@code /admin/*}, {@code /metrics}) and health
 * endpoints, configured by YAML plus environment overrides. Run it with {@link
 * io.miniloadbalancer.edge.EdgeMain}.
 *
 * <p>This package is the root: wiring and lifecycle ({@link io.miniloadbalancer.edge.EdgeProxy},
 * the pools, the Consul self-registration, where the process runs). Its rooms: {@code .config}
 * (configuration), {@code .http} (what both listeners speak), {@code .proxy} (the data path) and
 * {@code .admin} (the control plane). The root imports the rooms; no room imports the root, and the
 * proxy and admin rooms do not import each other.
 */
@NullMarked
package io.miniloadbalancer.edge;

import org.jspecify.annotations.NullMarked;
