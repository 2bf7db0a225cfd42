package io.miniloadbalancer.spring;

import io.miniloadbalancer.core.StreamingResult;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.ClientHttpResponse;

/**
 * A response that holds its request's lease (in the executor's {@link StreamingResult}) until the
 * body has been read to its end or the response is closed; a read error fails the endpoint. Ending
 * is exactly once (the lease ignores a second completion).
 */
final class LeaseResponse implements ClientHttpResponse {

  private final ClientHttpResponse delegate;
  private final StreamingResult<?> held;
  private InputStream body;

  LeaseResponse(ClientHttpResponse delegate, StreamingResult<?> held) {
    this.delegate = delegate;
    this.held = held;
  }

  @Override
  public HttpStatusCode getStatusCode() throws IOException {
    return delegate.getStatusCode();
  }

  @Override
  @SuppressWarnings("removal")
  public String getStatusText() throws IOException {
    return delegate.getStatusText();
  }

  @Override
  public HttpHeaders getHeaders() {
    return delegate.getHeaders();
  }

  @Override
  public synchronized InputStream getBody() throws IOException {
    if (body == null) {
      body = new LeaseStream(delegate.getBody());
    }
    return body;
  }

  @Override
  public void close() {
    try {
      delegate.close();
    } finally {
      held.close();
    }
  }

  private final class LeaseStream extends FilterInputStream {
    LeaseStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      try {
        int b = super.read();
        if (b == -1) {
          held.close();
        }
        return b;
      } catch (IOException e) {
        held.fail();
        throw e;
      }
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      try {
        int n = super.read(buf, off, len);
        if (n == -1) {
          held.close();
        }
        return n;
      } catch (IOException e) {
        held.fail();
        throw e;
      }
    }

    @Override
    public void close() throws IOException {
      try {
        super.close();
      } finally {
        held.close();
      }
    }
  }
}
