package io.miniloadbalancer.edge;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's signals: SIGHUP reloads the config file; SIGTERM and SIGINT stop (the shutdown hook
 * drains). Without a handler the JVM treats SIGHUP like SIGTERM and exits, which is why a {@code
 * kill -HUP} used to drain the proxy. {@code sun.misc.Signal} (module jdk.unsupported) is the JVM's
 * one way to handle a signal; where it is unavailable the JVM's defaults stay.
 */
final class Signals {

  private static final Logger LOG = LoggerFactory.getLogger(Signals.class);

  private static volatile String stopCause = "shutdown";

  private Signals() {}

  /** What stopped the process, for the shutdown hook's log line: a signal's name or "shutdown". */
  static String stopCause() {
    return stopCause;
  }

  /** Installs the handlers; SIGHUP reloads {@code edge}'s config. */
  static void install(EdgeProxy edge) {
    onHangup(edge);
    for (String stop : new String[] {"TERM", "INT"}) {
      handle(
          stop,
          () -> {
            stopCause = "SIG" + stop;
            // Runs the shutdown hook (the drain), which halts with the drain's exit code.
            System.exit(0);
          });
    }
  }

  /** SIGHUP reloads {@code edge}'s config file (and no longer stops the JVM). */
  static void onHangup(EdgeProxy edge) {
    handle(
        "HUP",
        () ->
            edge.reload("SIGHUP")
                .whenComplete(
                    (r, e) -> {
                      if (e != null) {
                        LOG.warn("SIGHUP: reload failed: {}", e.toString());
                      }
                    }));
  }

  private static void handle(String name, Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object proxy =
          Proxy.newProxyInstance(
              handler.getClassLoader(),
              new Class<?>[] {handler},
              (self, method, args) -> {
                switch (method.getName()) {
                  case "handle" -> action.run();
                  case "hashCode" -> {
                    return System.identityHashCode(self);
                  }
                  case "equals" -> {
                    return self == args[0];
                  }
                  case "toString" -> {
                    return "edge-proxy SIG" + name + " handler";
                  }
                  default -> {}
                }
                return null;
              });
      signal
          .getMethod("handle", signal, handler)
          .invoke(null, signal.getConstructor(String.class).newInstance(name), proxy);
    } catch (InvocationTargetException e) {
      // The JVM keeps this signal (-Xrs, or a platform without it): its default stays.
      LOG.debug("signal SIG{} not handled: {}", name, e.getCause().toString());
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("signal SIG{} not handled (no sun.misc.Signal): {}", name, e.toString());
    }
  }

  /** Sends {@code name} (e.g. {@code HUP}) to this process (tests). */
  static void raise(String name) throws ReflectiveOperationException {
    Class<?> signal = Class.forName("sun.misc.Signal");
    signal
        .getMethod("raise", signal)
        .invoke(null, signal.getConstructor(String.class).newInstance(name));
  }
}
