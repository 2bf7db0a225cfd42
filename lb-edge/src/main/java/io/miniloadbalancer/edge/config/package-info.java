/**
 * The configuration room: {@link io.miniloadbalancer.edge.config.EdgeConfig} (every key, default
 * and check), read from YAML plus {@code EDGE_*} environment overrides through {@link
 * io.miniloadbalancer.edge.config.ConfigFiles}. It depends on no other room of the proxy.
 */
@NullMarked
package io.miniloadbalancer.edge.config;

import org.jspecify.annotations.NullMarked;
