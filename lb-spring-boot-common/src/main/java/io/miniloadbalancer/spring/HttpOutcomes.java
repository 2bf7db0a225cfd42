package io.miniloadbalancer.spring;

import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.Outcome;
import io.miniloadbalancer.core.RetryPolicy;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import org.jspecify.annotations.Nullable;

/**
 * How an HTTP answer counts for its endpoint, the same rules as lb-okhttp's {@code
 * LoadBalancingInterceptor} (its {@code isFailure}, {@code attempt} and {@code retryAfter}): 5xx
 * and 429 are failed attempts (retried when the request is idempotent); 429, and 503 with {@code
 * Retry-After}, end the lease as overloaded with the pause asked for (a penalty, not an ejection);
 * everything else is a success. Mirrored here until the rules move into lb-core (one table for
 * every adapter); keep the two in step.
 */
final class HttpOutcomes {

    static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private static final Duration MAX_RETRY_AFTER = Duration.ofDays(1);

    private HttpOutcomes() {}

    /** Whether an answer with this status is a failed attempt. */
    static boolean isFailure(int status) {
        return status >= 500 || status == 429;
    }

    /** Whether a request may be sent again: by method, or by an explicit Idempotency-Key. */
    static boolean retryable(String method, boolean hasIdempotencyKey) {
        return RetryPolicy.isIdempotent(method) || hasIdempotencyKey;
    }

    /**
     * Ends the lease as overloaded when the answer asks for a pause (429, or 503 with Retry-After);
     * otherwise leaves it to the caller's success/failure judgement.
     */
    static void overloadIfAsked(
            Lease lease, int status, @Nullable String retryAfterHeader, long latencyNanos) {
        if (status != 429 && status != 503) {
            return;
        }
        Duration retryAfter = retryAfter(retryAfterHeader);
        if (retryAfter != null) {
            lease.overloaded(retryAfter);
        } else if (status == 429) {
            lease.complete(Outcome.OVERLOADED, latencyNanos, status);
        }
    }

    /** {@code Retry-After} as seconds or an HTTP date, capped at a day, or null. */
    static @Nullable Duration retryAfter(@Nullable String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim();
        Duration d;
        try {
            d = Duration.ofSeconds(Math.max(0, Long.parseLong(v)));
        } catch (NumberFormatException | ArithmeticException notSeconds) {
            try {
                Instant at =
                        ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                d = Duration.between(Instant.now(), at);
            } catch (DateTimeParseException notDate) {
                return null;
            }
        }
        if (d.isNegative()) {
            return Duration.ZERO;
        }
        return d.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : d;
    }
}
