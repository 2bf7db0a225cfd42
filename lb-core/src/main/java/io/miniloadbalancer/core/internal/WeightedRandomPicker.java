package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.RequestContext;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/** Weighted random: one random long and one alias-table lookup per pick. */
final class WeightedRandomPicker implements Picker {

    private final EndpointRuntime[] endpoints;
    private final AliasTable alias;
    private final LongSupplier random;

    WeightedRandomPicker(EndpointRuntime[] endpoints, double[] weights, LongSupplier random) {
        this.endpoints = endpoints;
        this.alias = new AliasTable(weights);
        this.random = random;
    }

    @Override
    public @Nullable EndpointRuntime pick(RequestContext context, long nowNanos, int attempt) {
        return endpoints[alias.sample(random.getAsLong())];
    }
}
