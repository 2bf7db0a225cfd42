/**
 * The process's logs: the line format (human-readable on a terminal, JSON lines otherwise), the
 * level settings from the environment, and the readable transition log. Used by logback (through
 * {@code logback.xml}) and by the root's wiring; no room imports it.
 */
@NullMarked
package io.miniloadbalancer.edge.logging;

import org.jspecify.annotations.NullMarked;
