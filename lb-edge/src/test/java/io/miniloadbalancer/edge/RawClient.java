package io.miniloadbalancer.edge;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A hostile (or merely exact) HTTP/1.1 client on a raw socket: sends bytes as given, reads what
 * comes back until the server closes or a bound passes, and parses it into responses with their
 * framing laid bare (was the body complete, did a chunked body end with its 0-chunk, did the server
 * close).
 */
final class RawClient {

  private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.[01] (\\d{3})(?: (.*))?");

  private RawClient() {}

  /** One header line. */
  record Header(String name, String value) {}

  /**
   * A parsed response.
   *
   * @param statusLine the status line as received
   * @param status its code
   * @param headers the header lines in order
   * @param body the body (de-chunked)
   * @param chunked whether the body was chunked
   * @param complete whether the body framing ended: Content-Length reached, the 0-chunk read, or,
   *     for a close-delimited body, the close seen
   */
  record Response(
      String statusLine,
      int status,
      List<Header> headers,
      byte[] body,
      boolean chunked,
      boolean complete) {

    List<String> headers(String name) {
      List<String> values = new ArrayList<>();
      for (Header h : headers) {
        if (h.name().equalsIgnoreCase(name)) {
          values.add(h.value());
        }
      }
      return values;
    }

    Optional<String> header(String name) {
      List<String> all = headers(name);
      return all.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", all));
    }

    String bodyText() {
      return new String(body, StandardCharsets.ISO_8859_1);
    }

    boolean interim() {
      return status >= 100 && status < 200;
    }

    @Override
    public String toString() {
      return statusLine
          + " "
          + headers
          + " body="
          + abbreviate(bodyText())
          + (chunked ? " chunked" : "")
          + (complete ? "" : " INCOMPLETE");
    }
  }

  /**
   * What came back on one connection.
   *
   * @param responses every response parsed, interim ones included
   * @param closed whether the server closed the connection (EOF or reset) before the read bound
   * @param leftover bytes after the last response that do not parse as one
   */
  record Result(List<Response> responses, boolean closed, byte[] leftover) {

    /** Final (non-1xx) responses. */
    List<Response> finals() {
      return responses.stream().filter(r -> !r.interim()).toList();
    }

    Response first() {
      if (finals().isEmpty()) {
        throw new AssertionError("no final response; got " + this);
      }
      return finals().get(0);
    }

    String leftoverText() {
      return new String(leftover, StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
      return responses
          + (closed ? " [closed]" : " [open]")
          + (leftover.length > 0 ? " leftover=" + abbreviate(leftoverText()) : "");
    }
  }

  /**
   * Sends {@code request} (ISO-8859-1) as one write; see {@link #exchange(int, byte[], List,
   * long)}.
   */
  static Result exchange(int port, String request, String... methods) throws IOException {
    return exchange(port, request.getBytes(StandardCharsets.ISO_8859_1), List.of(methods), 3_000);
  }

  /**
   * Sends {@code request} and reads until the server closes, {@code boundMillis} pass, or one final
   * response per method in {@code methods} has arrived complete and nothing more comes for a short
   * quiet period (so a response that should not be followed by anything is seen to be). {@code
   * methods} names the request method of each expected response, for HEAD's bodyless answers.
   */
  static Result exchange(int port, byte[] request, List<String> methods, long boundMillis)
      throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setTcpNoDelay(true);
      s.getOutputStream().write(request);
      s.getOutputStream().flush();
      return read(s, methods, boundMillis);
    }
  }

  /** After the expected responses, how long to keep listening for bytes that should not come. */
  private static final long QUIET_MILLIS = 60;

  static Result read(Socket s, List<String> methods, long boundMillis) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    InputStream in = s.getInputStream();
    byte[] buf = new byte[16_384];
    long deadline = System.nanoTime() + boundMillis * 1_000_000;
    long quietSince = -1;
    boolean closed = false;
    while (true) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        break;
      }
      Result sofar = parse(got.toByteArray(), methods, false);
      boolean satisfied = !methods.isEmpty() && countCompleteFinals(sofar) >= methods.size();
      if (satisfied && !lastSaysClose(sofar)) {
        if (quietSince < 0) {
          quietSince = System.nanoTime();
        }
        long quietLeft = QUIET_MILLIS - (System.nanoTime() - quietSince) / 1_000_000;
        if (quietLeft <= 0) {
          break;
        }
        left = Math.min(left, quietLeft);
      }
      s.setSoTimeout((int) Math.max(1, left));
      int n;
      try {
        n = in.read(buf);
      } catch (SocketTimeoutException e) {
        continue;
      } catch (IOException e) {
        closed = true; // reset by the server
        break;
      }
      if (n < 0) {
        closed = true;
        break;
      }
      got.write(buf, 0, n);
      quietSince = -1;
    }
    return parse(got.toByteArray(), methods, closed);
  }

  private static long countCompleteFinals(Result r) {
    return r.responses().stream().filter(x -> !x.interim() && x.complete()).count();
  }

  private static boolean lastSaysClose(Result r) {
    List<Response> f = r.finals();
    return !f.isEmpty()
        && f.get(f.size() - 1)
            .header("Connection")
            .orElse("")
            .toLowerCase(Locale.ROOT)
            .contains("close");
  }

  /**
   * Parses {@code bytes} as a sequence of responses to requests with {@code methods}; {@code
   * closed} says whether the connection ended there (which completes a close-delimited body).
   */
  static Result parse(byte[] bytes, List<String> methods, boolean closed) {
    List<Response> out = new ArrayList<>();
    int pos = 0;
    int method = 0;
    while (pos < bytes.length) {
      int headEnd = indexOf(bytes, "\r\n\r\n", pos);
      if (headEnd < 0) {
        break;
      }
      String head = new String(bytes, pos, headEnd - pos, StandardCharsets.ISO_8859_1);
      String[] lines = head.split("\r\n", -1);
      Matcher m = STATUS_LINE.matcher(lines[0]);
      if (!m.matches()) {
        break;
      }
      int status = Integer.parseInt(m.group(1));
      List<Header> headers = new ArrayList<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.add(
            colon < 0
                ? new Header(lines[i], "")
                : new Header(lines[i].substring(0, colon), lines[i].substring(colon + 1).trim()));
      }
      int bodyStart = headEnd + 4;
      Response shell = new Response(lines[0], status, headers, new byte[0], false, true);
      if (shell.interim()) {
        out.add(shell);
        pos = bodyStart;
        continue;
      }
      String forMethod = method < methods.size() ? methods.get(method) : "GET";
      method++;
      boolean noBody = forMethod.equals("HEAD") || status == 204 || status == 304;
      boolean chunked =
          shell.header("Transfer-Encoding").orElse("").toLowerCase(Locale.ROOT).contains("chunked");
      Optional<String> cl = shell.header("Content-Length");
      if (noBody) {
        out.add(shell);
        pos = bodyStart;
      } else if (chunked) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int p = bodyStart;
        boolean complete = false;
        while (true) {
          int eol = indexOf(bytes, "\r\n", p);
          if (eol < 0) {
            break;
          }
          String sizeText = new String(bytes, p, eol - p, StandardCharsets.ISO_8859_1);
          int semi = sizeText.indexOf(';');
          sizeText = (semi < 0 ? sizeText : sizeText.substring(0, semi)).trim();
          if (!sizeText.matches("[0-9A-Fa-f]{1,7}")) {
            break;
          }
          int size = Integer.parseInt(sizeText, 16);
          if (size == 0) {
            int end = indexOf(bytes, "\r\n", eol + 2);
            // trailer section: lines until an empty one
            int q = eol + 2;
            while (end >= 0 && end != q) {
              q = end + 2;
              end = indexOf(bytes, "\r\n", q);
            }
            if (end >= 0) {
              p = end + 2;
              complete = true;
            }
            break;
          }
          if (eol + 2 + size + 2 > bytes.length) {
            body.write(bytes, eol + 2, Math.min(size, bytes.length - eol - 2));
            p = bytes.length;
            break;
          }
          body.write(bytes, eol + 2, size);
          p = eol + 2 + size + 2;
        }
        out.add(new Response(lines[0], status, headers, body.toByteArray(), true, complete));
        pos = complete ? p : bytes.length;
        if (!complete) {
          break;
        }
      } else if (cl.isPresent() && cl.get().matches("\\d{1,9}")) {
        int n = Integer.parseInt(cl.get());
        int have = Math.min(n, bytes.length - bodyStart);
        out.add(
            new Response(
                lines[0],
                status,
                headers,
                Arrays.copyOfRange(bytes, bodyStart, bodyStart + have),
                false,
                have == n));
        pos = bodyStart + have;
        if (have < n) {
          break;
        }
      } else {
        out.add(
            new Response(
                lines[0],
                status,
                headers,
                Arrays.copyOfRange(bytes, bodyStart, bytes.length),
                false,
                closed));
        pos = bytes.length;
      }
    }
    return new Result(
        out, closed, Arrays.copyOfRange(bytes, Math.min(pos, bytes.length), bytes.length));
  }

  private static int indexOf(byte[] a, String needle, int from) {
    outer:
    for (int i = from; i <= a.length - needle.length(); i++) {
      for (int j = 0; j < needle.length(); j++) {
        if (a[i + j] != needle.charAt(j)) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static String abbreviate(String s) {
    String clean = s.replace("\r", "\\r").replace("\n", "\\n");
    return clean.length() > 120 ? clean.substring(0, 120) + "..." : clean;
  }

  /**
   * A keep-alive client connection: one request at a time, each read to its complete response. For
   * load loops and for "the next client" checks.
   */
  static final class Connection implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private boolean closed;

    Connection(int port) throws IOException {
      socket = new Socket(InetAddress.getLoopbackAddress(), port);
      socket.setTcpNoDelay(true);
      in = socket.getInputStream();
    }

    /** Whether the server closed this connection. */
    boolean closed() {
      return closed;
    }

    /** Sends {@code request} and reads one final response (interim ones before it are skipped). */
    Response send(String request, long boundMillis) throws IOException {
      String method = request.substring(0, Math.max(0, request.indexOf(' ')));
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      long deadline = System.nanoTime() + boundMillis * 1_000_000;
      byte[] buf = new byte[16_384];
      while (true) {
        Result r = parse(pending.toByteArray(), List.of(method), closed);
        List<Response> finals = r.finals();
        if (!finals.isEmpty() && finals.get(0).complete()) {
          pending.reset();
          pending.write(r.leftover());
          if (finals
              .get(0)
              .header("Connection")
              .orElse("")
              .toLowerCase(Locale.ROOT)
              .contains("close")) {
            closed = true; // the server said so: no next request on this connection
          }
          return finals.get(0);
        }
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (closed || left <= 0) {
          throw new IOException(
              "no complete response"
                  + (closed ? " before close" : " within " + boundMillis + " ms")
                  + ": "
                  + r);
        }
        socket.setSoTimeout((int) left);
        int n;
        try {
          n = in.read(buf);
        } catch (SocketTimeoutException e) {
          continue;
        }
        if (n < 0) {
          closed = true;
        } else {
          pending.write(buf, 0, n);
        }
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
