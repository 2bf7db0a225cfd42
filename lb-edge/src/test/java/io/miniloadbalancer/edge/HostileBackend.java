package io.miniloadbalancer.edge;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend on a raw {@link ServerSocket} that misbehaves on purpose: every request it reads is
 * logged (request line, header lines, body and trailer lines, per connection) and answered with a
 * scripted sequence of {@link Step}s chosen by the request's path: bytes, pauses, a FIN, a RST, an
 * echo tunnel, or a wait for the proxy to close. It is a real TCP peer, so what the proxy sees is
 * what a broken server on the network would send.
 *
 * <p>One thread per connection, at most {@link #MAX_CONNECTIONS}; a connection beyond that is
 * closed at accept. The parser is deliberately simple and strict enough to show what reached it: a
 * request is logged as soon as its head is read, and marked complete only when its body framing
 * ended.
 */
final class HostileBackend implements AutoCloseable {

  static final int MAX_CONNECTIONS = 64;
  private static final int MAX_HEAD = 64 * 1024;

  /** One scripted action on the connection that carried the request. */
  sealed interface Step permits Write, Pause, Close, Reset, Echo, AwaitClose {}

  /** Writes these bytes and flushes. */
  record Write(byte[] bytes) implements Step {}

  /** Waits this long (the backend's own think time; the scripted delay is the point). */
  record Pause(long millis) implements Step {}

  /** Closes the connection with a FIN. */
  record Close() implements Step {}

  /** Closes the connection with a RST ({@code SO_LINGER 0}). */
  record Reset() implements Step {}

  /** A tunnel: echoes every byte back until the peer closes. */
  record Echo() implements Step {}

  /** Reads (and discards) until the peer closes or the time is up, then closes. */
  record AwaitClose(long millis) implements Step {}

  static Step write(String latin1) {
    return new Write(latin1.getBytes(StandardCharsets.ISO_8859_1));
  }

  static Step pause(long millis) {
    return new Pause(millis);
  }

  static Step fin() {
    return new Close();
  }

  static Step rst() {
    return new Reset();
  }

  static Step echo() {
    return new Echo();
  }

  static Step awaitClose(long millis) {
    return new AwaitClose(millis);
  }

  /** A complete 200 with a Content-Length body: the well-behaved answer. */
  static List<Step> ok(String body) {
    return List.of(
        write("HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body));
  }

  /**
   * A request as read off the wire.
   *
   * @param connection the connection's number, from 1, in accept order
   * @param requestLine the request line as sent (ISO-8859-1, so every byte is kept)
   * @param headerLines the header lines, raw
   * @param body the body bytes after de-chunking
   * @param trailerLines trailer lines of a chunked body
   * @param complete whether the body framing ended (Content-Length reached or the 0-chunk and its
   *     trailer section read)
   */
  record Received(
      int connection,
      String requestLine,
      List<String> headerLines,
      byte[] body,
      List<String> trailerLines,
      boolean complete) {

    String method() {
      int sp = requestLine.indexOf(' ');
      return sp < 0 ? requestLine : requestLine.substring(0, sp);
    }

    String target() {
      String[] parts = requestLine.split(" ");
      return parts.length > 1 ? parts[1] : "";
    }

    String path() {
      String t = target();
      int q = t.indexOf('?');
      return q < 0 ? t : t.substring(0, q);
    }

    List<String> headers(String name) {
      List<String> values = new ArrayList<>();
      for (String line : headerLines) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
          values.add(line.substring(colon + 1).trim());
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

    @Override
    public String toString() {
      return "#"
          + connection
          + " "
          + requestLine
          + " "
          + headerLines
          + " body="
          + bodyText().length()
          + "B"
          + (trailerLines.isEmpty() ? "" : " trailers=" + trailerLines)
          + (complete ? "" : " INCOMPLETE");
    }
  }

  /** A connection's state, for the log and the idle-reset timer. */
  private static final class Conn {
    final int number;
    final Socket socket;

    /** Waiting for the first byte of a request: a keep-alive connection at rest. */
    volatile boolean idle;

    /** Whether the proxy wrote anything on this connection. */
    volatile boolean used;

    volatile boolean peerClosed;
    volatile boolean done;

    Conn(int number, Socket socket) {
      this.number = number;
      this.socket = socket;
    }
  }

  private final ServerSocket server;
  private final ThreadPoolExecutor workers;
  private final Thread acceptor;
  private final AtomicInteger connectionCount = new AtomicInteger();
  private final Map<Integer, Conn> conns = new ConcurrentHashMap<>();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final Map<String, List<Step>> scripts = new ConcurrentHashMap<>();
  private volatile List<Step> fallback = ok("ok");
  private volatile ScheduledExecutorService resetter;
  private final AtomicInteger idleResets = new AtomicInteger();

  HostileBackend() throws IOException {
    server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
    workers =
        new ThreadPoolExecutor(
            0,
            MAX_CONNECTIONS,
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "hostile-backend-conn");
              t.setDaemon(true);
              return t;
            });
    acceptor = new Thread(this::acceptLoop, "hostile-backend-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Answers requests for {@code path} (without query) with {@code steps}. */
  HostileBackend on(String path, List<Step> steps) {
    scripts.put(path, List.copyOf(steps));
    return this;
  }

  HostileBackend on(String path, Step... steps) {
    return on(path, List.of(steps));
  }

  /** Answers every path without a script of its own with {@code steps}. */
  HostileBackend otherwise(List<Step> steps) {
    fallback = List.copyOf(steps);
    return this;
  }

  /** Every request read so far, in order. */
  List<Received> received() {
    return List.copyOf(received);
  }

  /** Connections accepted so far. */
  int connections() {
    return connectionCount.get();
  }

  /** Whether the proxy closed connection {@code number} (EOF read or a write refused). */
  boolean closedByPeer(int number) {
    Conn c = conns.get(number);
    return c != null && c.peerClosed;
  }

  /** Whether the proxy wrote anything on connection {@code number}. */
  boolean used(int number) {
    Conn c = conns.get(number);
    return c != null && c.used;
  }

  /** Connections the proxy wrote anything on. */
  long usedConnections() {
    return conns.values().stream().filter(c -> c.used).count();
  }

  /** Whether connection {@code number} is closed, by either side. */
  boolean isClosed(int number) {
    Conn c = conns.get(number);
    return c != null && c.done;
  }

  /**
   * Every {@code period}, starting after {@code offset}, resets (RST) each connection that is
   * waiting for its next request: a backend with a short keep-alive timeout that aborts instead of
   * closing. A request already on its way is lost with the connection, as with a real server.
   */
  void resetIdleConnectionsEvery(long periodMillis, long offsetMillis) {
    ScheduledExecutorService s =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "hostile-backend-resetter");
              t.setDaemon(true);
              return t;
            });
    resetter = s;
    s.scheduleAtFixedRate(
        () -> {
          for (Conn c : conns.values()) {
            if (c.idle && !c.done) {
              idleResets.incrementAndGet();
              abort(c.socket);
            }
          }
        },
        offsetMillis,
        periodMillis,
        TimeUnit.MILLISECONDS);
  }

  /** Idle connections reset so far by {@link #resetIdleConnectionsEvery}. */
  int idleResets() {
    return idleResets.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        return;
      }
      Conn c = new Conn(connectionCount.incrementAndGet(), s);
      conns.put(c.number, c);
      try {
        workers.execute(() -> serve(c));
      } catch (RejectedExecutionException e) {
        c.done = true;
        closeQuietly(s);
      }
    }
  }

  private void serve(Conn c) {
    try (Socket s = c.socket) {
      s.setTcpNoDelay(true);
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      while (true) {
        c.idle = true;
        int first = in.read();
        c.idle = false;
        if (first >= 0) {
          c.used = true;
        }
        if (first < 0) {
          c.peerClosed = true;
          return;
        }
        Received r = readRequest(c.number, first, in);
        received.add(r);
        if (!r.complete()) {
          c.peerClosed = true; // the request ended early: the proxy closed or reset it
          return;
        }
        List<Step> steps = scripts.getOrDefault(r.path(), fallback);
        if (!run(c, steps, in, out)) {
          return;
        }
      }
    } catch (IOException e) {
      // A reset from the proxy (or by our own resetter): the connection is gone.
      c.peerClosed = true;
    } finally {
      c.done = true;
    }
  }

  /** Runs a script; false when the connection ended. */
  private static boolean run(Conn c, List<Step> steps, InputStream in, OutputStream out)
      throws IOException {
    for (Step step : steps) {
      if (step instanceof Write w) {
        out.write(w.bytes());
        out.flush();
      } else if (step instanceof Pause p) {
        try {
          // The scripted pause is the fault itself (a backend that stalls mid-message),
          // not a wait for something: it stays a sleep.
          Thread.sleep(p.millis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      } else if (step instanceof Close) {
        c.socket.shutdownOutput();
        drainUntilClosed(c, in, 2_000);
        return false;
      } else if (step instanceof Reset) {
        abort(c.socket);
        return false;
      } else if (step instanceof Echo) {
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) >= 0; ) {
          out.write(buf, 0, n);
          out.flush();
        }
        c.peerClosed = true;
        return false;
      } else if (step instanceof AwaitClose a) {
        drainUntilClosed(c, in, a.millis());
        return false;
      }
    }
    return true;
  }

  private static void drainUntilClosed(Conn c, InputStream in, long millis) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    byte[] buf = new byte[4096];
    while (System.nanoTime() < deadline) {
      c.socket.setSoTimeout(
          (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      try {
        if (in.read(buf) < 0) {
          c.peerClosed = true;
          return;
        }
      } catch (SocketTimeoutException e) {
        return;
      }
    }
  }

  // ---- a small request reader ----------------------------------------------------------------

  private static Received readRequest(int conn, int first, InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    head.write(first);
    // The last four bytes, to find CRLF CRLF without rescanning.
    int tail = first;
    while (tail != 0x0d0a0d0a) {
      int b = in.read();
      if (b < 0 || head.size() > MAX_HEAD) {
        return partial(conn, head.toString(StandardCharsets.ISO_8859_1));
      }
      head.write(b);
      tail = (tail << 8) | b;
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    List<String> lines = List.of(text.substring(0, text.length() - 4).split("\r\n", -1));
    String requestLine = lines.get(0);
    List<String> headerLines = lines.subList(1, lines.size());
    Received shell = new Received(conn, requestLine, headerLines, new byte[0], List.of(), true);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    List<String> trailers = new ArrayList<>();
    boolean complete;
    String te = shell.header("Transfer-Encoding").orElse("").toLowerCase(Locale.ROOT);
    Optional<String> cl = shell.header("Content-Length");
    if (te.contains("chunked")) {
      complete = readChunked(in, body, trailers);
    } else if (cl.isPresent() && cl.get().matches("\\d{1,9}")) {
      complete = readFully(in, body, Integer.parseInt(cl.get()));
    } else {
      complete = true;
    }
    return new Received(
        conn, requestLine, headerLines, body.toByteArray(), List.copyOf(trailers), complete);
  }

  private static Received partial(int conn, String head) {
    String[] lines = head.split("\r\n", -1);
    return new Received(
        conn, lines[0], List.of(lines).subList(1, lines.length), new byte[0], List.of(), false);
  }

  private static boolean readFully(InputStream in, ByteArrayOutputStream body, int n)
      throws IOException {
    byte[] buf = new byte[8192];
    while (n > 0) {
      int r = in.read(buf, 0, Math.min(buf.length, n));
      if (r < 0) {
        return false;
      }
      body.write(buf, 0, r);
      n -= r;
    }
    return true;
  }

  private static boolean readChunked(
      InputStream in, ByteArrayOutputStream body, List<String> trailers) throws IOException {
    while (true) {
      String sizeLine = readLine(in);
      if (sizeLine == null) {
        return false;
      }
      int semi = sizeLine.indexOf(';');
      String hex = (semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim();
      if (!hex.matches("[0-9A-Fa-f]{1,7}")) {
        return false;
      }
      int size = Integer.parseInt(hex, 16);
      if (size == 0) {
        for (String t; (t = readLine(in)) != null; ) {
          if (t.isEmpty()) {
            return true;
          }
          trailers.add(t);
        }
        return false;
      }
      if (!readFully(in, body, size) || !"".equals(readLine(in))) {
        return false;
      }
    }
  }

  /** A CRLF-terminated line without its CRLF; null at EOF or past 8 KiB. */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int previous = -1;
    while (line.size() < 8192) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      if (previous == '\r' && b == '\n') {
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.substring(0, s.length() - 1);
      }
      line.write(b);
      previous = b;
    }
    return null;
  }

  private static void abort(Socket s) {
    try {
      s.setSoLinger(true, 0);
    } catch (IOException e) {
      // already closed
    }
    closeQuietly(s);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing left to do
    }
  }

  @Override
  public void close() {
    ScheduledExecutorService r = resetter;
    if (r != null) {
      r.shutdownNow();
    }
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    conns.values().forEach(c -> closeQuietly(c.socket));
    workers.shutdownNow();
  }
}
