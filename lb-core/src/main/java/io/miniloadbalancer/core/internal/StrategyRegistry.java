package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.Strategies;
import java.util.Map;

/** Maps strategy names to the pickers that implement them. */
public final class StrategyRegistry {

    /** Builds a picker over a routing table's endpoints. */
    @FunctionalInterface
    private interface Factory {
        Picker create(
                EndpointRuntime[] endpoints,
                double[] configured,
                double[] effective,
                StrategyConfig config);
    }

    private static final Map<String, Factory> FACTORIES =
            Map.of(
                    Strategies.ROUND_ROBIN,
                    (e, cw, w, c) -> new SmoothRoundRobinPicker(e, w, c.random().getAsLong()),
                    Strategies.RANDOM,
                    (e, cw, w, c) -> new WeightedRandomPicker(e, w, c.random()),
                    Strategies.LEAST_CONNECTIONS,
                    (e, cw, w, c) -> new LeastConnectionsPicker(e, w, c.random()),
                    Strategies.LEAST_CONNECTIONS_P2C,
                    (e, cw, w, c) -> new LeastConnectionsP2cPicker(e, w, c.random()),
                    Strategies.P2C_EWMA,
                    (e, cw, w, c) -> new PeakEwmaPicker(e, w, c.random()),
                    Strategies.RING_HASH,
                    (e, cw, w, c) -> new RingHashPicker(e, cw, admission(cw, w), c),
                    Strategies.MAGLEV,
                    (e, cw, w, c) -> new MaglevPicker(e, cw, admission(cw, w), c));

    private StrategyRegistry() {}

    /**
     * A picker for {@code strategy} over these endpoints; the empty picker for an empty table.
     *
     * <p>Weight-proportional strategies use the effective weights (configured weight x slow-start
     * factor). Hash strategies shape their table by the configured weights, so no other endpoint's
     * keys move while one ramps, and admit the ramping endpoint's keys in proportion to its factor.
     *
     * @param configured the configured weights, index-aligned with {@code endpoints}
     * @param effective the effective weights, index-aligned with {@code endpoints}
     * @throws IllegalArgumentException for an unknown name (callers validate names earlier)
     */
    public static Picker create(
            String strategy,
            EndpointRuntime[] endpoints,
            double[] configured,
            double[] effective,
            StrategyConfig config) {
        Factory factory = FACTORIES.get(strategy);
        if (factory == null) {
            throw new IllegalArgumentException(Strategies.unknownMessage(strategy));
        }
        return endpoints.length == 0
                ? Picker.EMPTY
                : factory.create(endpoints, configured, effective, config);
    }

    private static double[] admission(double[] configured, double[] effective) {
        double[] admission = new double[configured.length];
        for (int i = 0; i < admission.length; i++) {
            admission[i] = Math.min(1.0, effective[i] / configured[i]);
        }
        return admission;
    }
}
