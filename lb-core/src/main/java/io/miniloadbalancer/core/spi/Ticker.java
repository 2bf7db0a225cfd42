package io.miniloadbalancer.core.spi;

/**
 * A source of monotonic nanoseconds. The balancer reads time only through its ticker, so tests
 * drive time instead of sleeping.
 *
 * <p>Implementations must be thread-safe and cheap: the data path reads it once per acquire and
 * once per completion.
 */
@FunctionalInterface
public interface Ticker {

  /**
   * Nanoseconds from an arbitrary fixed origin; never decreases.
   *
   * @return nanoseconds from an arbitrary fixed origin; never decreases
   */
  long read();

  /**
   * The JVM's {@link System#nanoTime()}.
   *
   * @return the JVM's {@link System#nanoTime()}
   */
  static Ticker system() {
    return System::nanoTime;
  }
}
