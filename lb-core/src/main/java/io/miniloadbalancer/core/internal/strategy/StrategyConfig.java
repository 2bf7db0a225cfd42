package io.miniloadbalancer.core.internal.strategy;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Everything a strategy needs besides the endpoints: frozen settings, the strategies this balancer
 * knows, and the shared random source and total in-flight counter.
 *
 * @param registry the strategies this balancer can pick with, by name
 * @param random a thread-safe source of uniformly random longs
 * @param totalInFlight the balancer's open leases, maintained while a bounded-load picker is active
 * @param hashBalanceFactor bounded-load factor in percent (HAProxy {@code hash-balance-factor}); 0
 *     is off
 * @param ringPointsPerEndpoint target ring points per endpoint of mean weight
 * @param minRingSize smallest ring
 * @param maxRingSize largest ring
 * @param maglevMinTableSize smallest Maglev table; the table is the first prime at or above the
 *     larger of this and 100 x endpoints
 */
public record StrategyConfig(
    StrategyRegistry registry,
    LongSupplier random,
    LongAdder totalInFlight,
    int hashBalanceFactor,
    int ringPointsPerEndpoint,
    int minRingSize,
    int maxRingSize,
    int maglevMinTableSize) {}
