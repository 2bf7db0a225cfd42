package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.RequestContext;
import org.jspecify.annotations.Nullable;

/**
 * A strategy's precomputed choice function over one routing table.
 *
 * <p>Built on the control context when a table is published, then read concurrently by every
 * caller: implementations are immutable apart from lock-free counters, and {@link #pick} allocates
 * nothing.
 */
public interface Picker {

    /**
     * Chooses an endpoint for a new request, or returns null when the table is empty.
     *
     * @param context the request's key, if any
     * @param nowNanos the balancer ticker's current reading (for time-aware strategies)
     * @param attempt 0 for the first choice; higher when the balancer asks again because the
     *     previous choice was excluded or refused the lease (hash strategies then offer the key's
     *     next candidate instead of the same endpoint)
     */
    @Nullable EndpointRuntime pick(RequestContext context, long nowNanos, int attempt);

    /**
     * Whether this picker reads the balancer's total in-flight count (bounded-load hashing); the
     * balancer maintains that count only while such a picker is active.
     */
    default boolean readsTotalInFlight() {
        return false;
    }

    /** The picker of an empty table. */
    Picker EMPTY = (context, nowNanos, attempt) -> null;
}
