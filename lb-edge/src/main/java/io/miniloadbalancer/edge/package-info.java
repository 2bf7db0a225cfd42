/**
 * The bundled edge proxy: {@code /proxy/*} and {@code /admin/*} on Netty over the same lb-core.
 *
 * <p>Not built yet: this module only holds its place in the reactor until its issue lands.
 */
@NullMarked
package io.miniloadbalancer.edge;

import org.jspecify.annotations.NullMarked;
