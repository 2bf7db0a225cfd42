package io.miniloadbalancer.core.internal.strategy;

import io.miniloadbalancer.core.internal.EndpointRuntime;
import java.util.concurrent.atomic.LongAdder;

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam; HAProxy's {@code
 * hash-balance-factor}, Envoy's {@code hash_balance_factor}): an endpoint may take a new request
 * only while its in-flight count is below {@code ceil(factor x (total + 1) x weight share)}, so
 * with factor 1.5 and equal weights no endpoint holds more than about 1.5 x the mean. A hash
 * strategy walks on from a full endpoint to the next candidate its table gives for the key, so keys
 * move only while their endpoint is full.
 *
 * <p>Check and increment are not one atomic step: under concurrency an endpoint may exceed its
 * capacity by at most the number of threads picking at that instant.
 */
final class BoundedLoad {

  private static final long ADMISSION_SEED = 0x6A09E667F3BCC909L;

  /**
   * Whether a ramping endpoint (slow start) takes this key: it takes the keys whose second hash
   * falls below its ramp factor, so as the factor grows it takes a growing, nested set of its own
   * keys, and the keys it declines walk on exactly as a full endpoint's do. Other endpoints' keys
   * never move.
   */
  static boolean admits(double admission, long keyHash) {
    if (admission >= 1.0) {
      return true;
    }
    long h = Hashing.mix(keyHash ^ ADMISSION_SEED) >>> 11;
    return h * 0x1.0p-53 < admission;
  }

  private final double[] capacityPerRequest;
  private final LongAdder totalInFlight;

  BoundedLoad(double[] weights, int factorPercent, LongAdder totalInFlight) {
    double sum = 0;
    for (double w : weights) {
      sum += w;
    }
    capacityPerRequest = new double[weights.length];
    for (int i = 0; i < weights.length; i++) {
      capacityPerRequest[i] = factorPercent / 100.0 * weights[i] / sum;
    }
    this.totalInFlight = totalInFlight;
  }

  long total() {
    return totalInFlight.sum();
  }

  boolean hasRoom(EndpointRuntime endpoint, int index, long total) {
    return endpoint.inFlight() < Math.ceil((total + 1) * capacityPerRequest[index]);
  }
}
