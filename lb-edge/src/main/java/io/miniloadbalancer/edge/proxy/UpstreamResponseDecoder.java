package io.miniloadbalancer.edge.proxy;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.util.AsciiString;

/**
 * Netty's response decoder at its strict defaults, plus what a proxy must know that Netty's
 * HttpClientCodec keeps private: whether the request was HEAD (its response has no body whatever
 * its headers say), and whether bytes are left over after a response ended, which means the backend
 * sent more than it framed (a body on HEAD/204/304, or plain garbage): such a connection is never
 * reused, or the next client would read those bytes as its answer.
 */
final class UpstreamResponseDecoder extends HttpResponseDecoder {

  private boolean headRequest;

  UpstreamResponseDecoder(int maxHeaderBytes) {
    super(
        new HttpDecoderConfig()
            .setMaxInitialLineLength(4096)
            .setMaxHeaderSize(maxHeaderBytes)
            .setMaxChunkSize(65_536));
  }

  /** Set before each request is written: the one request in flight on this connection. */
  void expectResponseTo(boolean head) {
    this.headRequest = head;
  }

  /** Bytes received and not yet decoded into a message (read at the end of a response). */
  boolean hasLeftoverBytes() {
    return actualReadableBytes() > 0;
  }

  /**
   * Netty ends a response field name at the first space and reads on to the colon, so {@code Bad
   * Name: x} would become {@code Bad: x}. Only whitespace may stand between a name and its colon
   * (RFC 9112 5.1, which a proxy then removes); anything else makes the head malformed.
   */
  @Override
  protected AsciiString splitHeaderName(byte[] line, int start, int length) {
    for (int i = start + length; i < line.length; i++) {
      byte b = line[i];
      if (b == ':') {
        break;
      }
      if (b != ' ' && b != '\t') {
        throw new IllegalArgumentException("invalid field name in a response");
      }
    }
    return super.splitHeaderName(line, start, length);
  }

  @Override
  protected boolean isContentAlwaysEmpty(HttpMessage msg) {
    if (headRequest && msg instanceof HttpResponse r && r.status().code() >= 200) {
      return true;
    }
    return super.isContentAlwaysEmpty(msg);
  }
}
