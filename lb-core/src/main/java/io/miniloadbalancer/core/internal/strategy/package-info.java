/**
 * The pick stage's built-in implementations, not exported: the seven strategies' pickers, the
 * hashing and bounded-load helpers they share, and {@link
 * io.miniloadbalancer.core.internal.strategy.StrategyRegistry}, which maps names to strategies
 * (built-in, service-loaded and builder-added alike) and builds the picker of each published table.
 */
@NullMarked
package io.miniloadbalancer.core.internal.strategy;

import org.jspecify.annotations.NullMarked;
