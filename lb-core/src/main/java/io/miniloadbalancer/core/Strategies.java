package io.miniloadbalancer.core;

import java.util.List;

/**
 * The names of the built-in strategies, as accepted by {@link LoadBalancer.Builder#strategy} and
 * {@link LoadBalancer#switchStrategy}. Every strategy honours endpoint weights.
 *
 * <table>
 *   <caption>Strategies</caption>
 *   <tr><th>name</th><th>picks</th><th>cost per pick</th></tr>
 *   <tr><td>{@value #ROUND_ROBIN}</td><td>smooth weighted round-robin</td><td>O(1)</td></tr>
 *   <tr><td>{@value #RANDOM}</td><td>weighted random (alias method)</td><td>O(1)</td></tr>
 *   <tr><td>{@value #LEAST_CONNECTIONS}</td><td>lowest in-flight/weight, full scan</td>
 *       <td>O(n)</td></tr>
 *   <tr><td>{@value #LEAST_CONNECTIONS_P2C}</td><td>lower in-flight/weight of two weighted
 *       draws</td><td>O(1)</td></tr>
 *   <tr><td>{@value #P2C_EWMA}</td><td>lower peak-EWMA latency x (in-flight + 1) / weight of two
 *       weighted draws</td><td>O(1)</td></tr>
 *   <tr><td>{@value #RING_HASH}</td><td>consistent hash ring on the request key, optionally
 *       bounded-load</td><td>O(1) (bucketed ring)</td></tr>
 *   <tr><td>{@value #MAGLEV}</td><td>Maglev table on the request key, optionally
 *       bounded-load</td><td>O(1)</td></tr>
 * </table>
 *
 * <p>A hash strategy given a request without a key picks with a fresh random hash, which is
 * weighted random: requests without a key still flow, they are just not sticky.
 */
public final class Strategies {

    /** Smooth weighted round-robin. */
    public static final String ROUND_ROBIN = "round-robin";

    /** Weighted random. */
    public static final String RANDOM = "random";

    /** Weighted least connections by full scan. */
    public static final String LEAST_CONNECTIONS = "least-connections";

    /** Weighted least connections with power of two choices. */
    public static final String LEAST_CONNECTIONS_P2C = "least-connections-p2c";

    /** Power of two choices on peak-EWMA latency. */
    public static final String P2C_EWMA = "p2c-ewma";

    /** Consistent hashing on a ring. */
    public static final String RING_HASH = "ring-hash";

    /** Maglev consistent hashing. */
    public static final String MAGLEV = "maglev";

    private static final List<String> NAMES =
            List.of(
                    ROUND_ROBIN,
                    RANDOM,
                    LEAST_CONNECTIONS,
                    LEAST_CONNECTIONS_P2C,
                    P2C_EWMA,
                    RING_HASH,
                    MAGLEV);

    private Strategies() {}

    /**
     * Every valid name, in a stable order.
     *
     * @return every valid name, in a stable order
     */
    public static List<String> names() {
        return NAMES;
    }

    /**
     * Whether {@code name} is a valid strategy name.
     *
     * @param name a strategy name
     * @return whether {@code name} is a valid strategy name
     */
    public static boolean isKnown(String name) {
        return NAMES.contains(name);
    }

    /**
     * Checks a name.
     *
     * @param name a strategy name
     * @return {@code name}
     * @throws IllegalArgumentException naming the valid strategies, when it is unknown
     */
    public static String requireKnown(String name) {
        if (!isKnown(name)) {
            throw new IllegalArgumentException(unknownMessage(name));
        }
        return name;
    }

    /**
     * The message for an unknown name.
     *
     * @param name a strategy name
     * @return the message for an unknown name
     */
    public static String unknownMessage(String name) {
        return "unknown strategy '" + name + "'; valid strategies: " + String.join(", ", NAMES);
    }
}
