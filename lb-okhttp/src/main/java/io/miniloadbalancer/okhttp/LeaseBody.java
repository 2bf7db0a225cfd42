package io.miniloadbalancer.okhttp;

import io.miniloadbalancer.core.Lease;
import io.miniloadbalancer.core.Outcome;
import java.io.IOException;
import java.time.Duration;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;
import org.jspecify.annotations.Nullable;

/**
 * A response body that holds the request's lease until the body is fully read or closed: in-flight
 * counts (least-connections, p2c, draining) see a request as open while its body streams, not only
 * until the headers arrive. Completing is exactly-once (the lease ignores repeats).
 */
final class LeaseBody extends ResponseBody {

  private final ResponseBody delegate;
  private final Call call;
  private final long callStartNanos;
  private final Lease lease;
  private final Outcome outcome;
  private final long latencyNanos;
  private final int code;
  private final @Nullable Duration retryAfter;
  private final BufferedSource source;

  LeaseBody(
      ResponseBody delegate,
      Call call,
      long callStartNanos,
      Lease lease,
      Outcome outcome,
      long latencyNanos,
      int code,
      @Nullable Duration retryAfter) {
    this.delegate = delegate;
    this.call = call;
    this.callStartNanos = callStartNanos;
    this.lease = lease;
    this.outcome = outcome;
    this.latencyNanos = latencyNanos;
    this.code = code;
    this.retryAfter = retryAfter;
    this.source =
        Okio.buffer(
            new ForwardingSource(delegate.source()) {
              @Override
              public long read(Buffer sink, long byteCount) throws IOException {
                long read;
                try {
                  read = super.read(sink, byteCount);
                } catch (IOException e) {
                  if (LoadBalancingInterceptor.cancelledByCaller(call, e, callStartNanos)) {
                    lease.close(); // the caller gave up: says nothing about the endpoint
                  } else {
                    // The body broke mid-stream, or timed out: the endpoint failed this request.
                    lease.complete(Outcome.FAILURE, latencyNanos, code);
                  }
                  throw e;
                }
                if (read == -1) {
                  finish();
                }
                return read;
              }

              @Override
              public void close() throws IOException {
                try {
                  finish();
                } finally {
                  super.close();
                }
              }
            });
  }

  private void finish() {
    if (outcome == Outcome.OVERLOADED && retryAfter != null) {
      lease.overloaded(retryAfter);
    } else {
      lease.complete(outcome, latencyNanos, code);
    }
  }

  @Override
  public @Nullable MediaType contentType() {
    return delegate.contentType();
  }

  @Override
  public long contentLength() {
    return delegate.contentLength();
  }

  @Override
  public BufferedSource source() {
    return source;
  }
}
