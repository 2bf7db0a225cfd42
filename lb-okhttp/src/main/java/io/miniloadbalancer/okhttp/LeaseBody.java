package io.miniloadbalancer.okhttp;

import io.miniloadbalancer.core.StreamingResult;
import java.io.IOException;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;
import org.jspecify.annotations.Nullable;

/**
 * A response body that holds the request's lease (in the executor's {@link StreamingResult}) until
 * the body is fully read or closed: in-flight counts (least-connections, p2c, draining) see a
 * request as open while its body streams, not only until the headers arrive. Ending is exactly once
 * (the first of end-of-body, close or a read error wins).
 */
final class LeaseBody extends ResponseBody {

  private final ResponseBody delegate;
  private final BufferedSource source;

  LeaseBody(ResponseBody delegate, Call call, long callStartNanos, StreamingResult<?> held) {
    this.delegate = delegate;
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
                    held.cancel(); // the caller gave up: says nothing about
                    // the endpoint
                  } else {
                    // The body broke mid-stream, or timed out: the endpoint
                    // failed this request.
                    held.fail();
                  }
                  throw e;
                }
                if (read == -1) {
                  held.close();
                }
                return read;
              }

              @Override
              public void close() throws IOException {
                try {
                  held.close();
                } finally {
                  super.close();
                }
              }
            });
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
