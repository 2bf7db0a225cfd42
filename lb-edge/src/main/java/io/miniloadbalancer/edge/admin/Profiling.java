package io.miniloadbalancer.edge.admin;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.management.JMException;
import javax.management.ObjectName;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;

/**
 * Profiling a running proxy from the admin plane (behind its token, as every {@code /admin} route):
 * a JFR recording of N seconds returned as a {@code .jfr} file (JFR's {@code profile} settings: CPU
 * samples every 10 ms, allocation samples, locks, I/O), a thread dump and a heap class histogram
 * (what {@code jcmd <pid> Thread.print} and {@code GC.class_histogram} print, through the JVM's
 * DiagnosticCommand MBean, so no tool needs attaching to the container).
 *
 * <p>Bounded: one recording at a time (another gets 409), at most {@value #MAX_SECONDS} s. The work
 * runs on one daemon thread of its own, never on an event loop; the connection waits for the file.
 * One per admin plane, shared by its connections.
 */
final class Profiling {

  /** The longest recording: a minute covers a load spike; longer belongs to a continuous JFR. */
  static final int MAX_SECONDS = 60;

  static final int DEFAULT_SECONDS = 10;

  private final AtomicBoolean recording = new AtomicBoolean();
  private final ScheduledExecutorService worker =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "edge-profiling");
            t.setDaemon(true);
            return t;
          });

  /** The route table's profiling rows. */
  List<AdminRoute> routes() {
    return List.of(
        new AdminRoute(
            "POST",
            "/admin/profile/jfr",
            "a JFR recording of ?seconds=N (1-60, default 10) as a .jfr file; 409 while one runs",
            (m, t, v) -> jfr(m, t)),
        new AdminRoute(
            "GET",
            "/admin/profile/threads",
            "a thread dump as text (jcmd Thread.print)",
            (m, t, v) -> diagnostic(m, HttpMethod.GET, "threadPrint", "threads.txt")),
        new AdminRoute(
            "POST",
            "/admin/profile/heap-histogram",
            "live objects by class as text (jcmd GC.class_histogram; runs a full GC)",
            (m, t, v) -> diagnostic(m, HttpMethod.POST, "gcClassHistogram", "heap-histogram.txt")));
  }

  private CompletableFuture<Answer> jfr(HttpMethod method, Target t) {
    if (!method.equals(HttpMethod.POST)) {
      return PoolRoutes.done(Answer.methodNotAllowed("POST"));
    }
    String raw = PoolRoutes.only(t.params(), "jfr", Set.of("seconds")).get("seconds");
    int seconds = raw == null ? DEFAULT_SECONDS : seconds(raw);
    if (!recording.compareAndSet(false, true)) {
      return PoolRoutes.done(
          Answer.error(HttpResponseStatus.CONFLICT, "a recording is already running; try later"));
    }
    CompletableFuture<Answer> answer = new CompletableFuture<>();
    Recording r;
    try {
      r = new Recording(Configuration.getConfiguration("profile"));
      r.setName("edge-admin");
      r.start();
    } catch (IOException | ParseException | RuntimeException e) {
      recording.set(false);
      return PoolRoutes.done(Answer.internalError("starting a JFR recording", e));
    }
    worker.schedule(
        () -> {
          try {
            answer.complete(stopAndRead(r));
          } catch (IOException | RuntimeException e) {
            answer.complete(Answer.internalError("writing a JFR recording", e));
          } finally {
            r.close();
            recording.set(false);
          }
        },
        seconds,
        TimeUnit.SECONDS);
    return answer;
  }

  private static Answer stopAndRead(Recording r) throws IOException {
    r.stop();
    Path file = Files.createTempFile("edge-", ".jfr");
    try {
      r.dump(file);
      String name = "edge-" + Instant.now().toString().replace(':', '-') + ".jfr";
      return Answer.ok(new Answer.File("application/octet-stream", name, Files.readAllBytes(file)));
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static int seconds(String raw) {
    if (!raw.matches("[0-9]{1,3}")) {
      throw new BadInput("query parameter 'seconds': expected a whole number, was " + quote(raw));
    }
    int s = Integer.parseInt(raw);
    if (s < 1 || s > MAX_SECONDS) {
      throw new BadInput("query parameter 'seconds': must be 1 to " + MAX_SECONDS + ", was " + s);
    }
    return s;
  }

  private static String quote(String s) {
    return AdminAuth.quote(s);
  }

  /** A DiagnosticCommand operation's text, computed on the worker thread. */
  private CompletableFuture<Answer> diagnostic(
      HttpMethod method, HttpMethod expected, String operation, String fileName) {
    if (expected.equals(HttpMethod.GET) ? !Answer.isRead(method) : !method.equals(expected)) {
      return PoolRoutes.done(
          Answer.methodNotAllowed(expected.equals(HttpMethod.GET) ? "GET, HEAD" : "POST"));
    }
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            Object text =
                ManagementFactory.getPlatformMBeanServer()
                    .invoke(
                        new ObjectName("com.sun.management:type=DiagnosticCommand"),
                        operation,
                        new Object[] {new String[0]},
                        new String[] {String[].class.getName()});
            byte[] bytes = String.valueOf(text).getBytes(StandardCharsets.UTF_8);
            return Answer.ok(new Answer.File("text/plain; charset=utf-8", fileName, bytes));
          } catch (JMException e) {
            return Answer.internalError(operation, e);
          }
        },
        worker);
  }
}
