package io.miniloadbalancer.edge;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One request on a fresh loopback connection, bytes exactly as given (no client library fixes the
 * {@code Host}, drops a second one or normalizes the target), answer read until the server closes
 * ({@code Connection: close}) or {@link #READ_TIMEOUT_MS} passes.
 */
public final class RawHttp {

  /** A hung admin answer is a bug; 5 s is far above any admin route's latency on loopback. */
  public static final int READ_TIMEOUT_MS = 5_000;

  /** What came back: the status (-1 when nothing did), headers (lower-cased names), body text. */
  public record Reply(
      int status, Map<String, String> headers, String body, String raw, boolean timedOut) {
    public @Nullable String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  private RawHttp() {}

  /**
   * Sends {@code request} (ISO-8859-1 except where it holds UTF-8 bytes already) to {@code port}.
   */
  public static Reply send(int port, byte[] request) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(READ_TIMEOUT_MS);
      s.getOutputStream().write(request);
      s.getOutputStream().flush();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      boolean timedOut = false;
      try {
        for (int n; (n = in.read(buf)) > 0; ) {
          got.write(buf, 0, n);
        }
      } catch (SocketTimeoutException e) {
        timedOut = true;
      } catch (IOException e) {
        // A reset after the answer is still an answer; a reset before it shows as status
        // -1.
      }
      return parse(got.toString(StandardCharsets.ISO_8859_1), timedOut);
    }
  }

  /** A request built from a method, a target, {@code Host} and extra header lines. */
  public static Reply send(
      int port, String method, String target, String host, String... headerLines)
      throws IOException {
    StringBuilder b = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n");
    if (host != null) {
      b.append("Host: ").append(host).append("\r\n");
    }
    for (String h : headerLines) {
      b.append(h).append("\r\n");
    }
    b.append("Connection: close\r\n\r\n");
    return send(port, b.toString().getBytes(StandardCharsets.ISO_8859_1));
  }

  /** A form POST. */
  public static Reply post(int port, String target, String host, String form, String... headerLines)
      throws IOException {
    byte[] body = form.getBytes(StandardCharsets.UTF_8);
    StringBuilder b = new StringBuilder("POST ").append(target).append(" HTTP/1.1\r\n");
    b.append("Host: ").append(host).append("\r\n");
    for (String h : headerLines) {
      b.append(h).append("\r\n");
    }
    b.append("Content-Type: application/x-www-form-urlencoded\r\n");
    b.append("Content-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(b.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes(body);
    return send(port, out.toByteArray());
  }

  private static Reply parse(String raw, boolean timedOut) {
    int headEnd = raw.indexOf("\r\n\r\n");
    if (!raw.startsWith("HTTP/1.1 ") || headEnd < 0) {
      return new Reply(-1, Map.of(), "", raw, timedOut);
    }
    String[] lines = raw.substring(0, headEnd).split("\r\n");
    int status = Integer.parseInt(lines[0].substring(9, 12));
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(
          lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
          lines[i].substring(colon + 1).trim());
    }
    return new Reply(status, headers, raw.substring(headEnd + 4), raw, timedOut);
  }
}
