package io.miniloadbalancer.core.internal;

import io.miniloadbalancer.core.RequestContext;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Weighted least connections with power of two choices (Envoy's least request, HAProxy's {@code
 * random(2)}): two candidates drawn by weight, the one with the lower {@code inFlight / weight}
 * wins. O(1) per pick, and no herd onto the single least-loaded endpoint.
 */
final class LeastConnectionsP2cPicker implements Picker {

    private final EndpointRuntime[] endpoints;
    private final double[] inverseWeights;
    private final PowerOfTwoChoices choices;

    LeastConnectionsP2cPicker(EndpointRuntime[] endpoints, double[] weights, LongSupplier random) {
        this.endpoints = endpoints;
        this.inverseWeights = LeastConnectionsPicker.inverse(weights);
        this.choices = new PowerOfTwoChoices(weights, random);
    }

    @Override
    public @Nullable EndpointRuntime pick(RequestContext context, long nowNanos, int attempt) {
        int a = choices.first();
        int b = choices.second(a);
        double loadA = endpoints[a].inFlight() * inverseWeights[a];
        double loadB = endpoints[b].inFlight() * inverseWeights[b];
        return endpoints[loadB < loadA ? b : a];
    }
}
