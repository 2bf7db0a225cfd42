/**
 * The pick stage's extension point: a {@link io.miniloadbalancer.core.strategy.Strategy} builds a
 * {@link io.miniloadbalancer.core.strategy.Picker} over each published {@link
 * io.miniloadbalancer.core.strategy.EndpointTable}, and every request calls that picker. The
 * built-in strategies ({@code io.miniloadbalancer.core.internal.strategy}) are registered through
 * this same interface.
 */
@NullMarked
package io.miniloadbalancer.core.strategy;

import org.jspecify.annotations.NullMarked;
