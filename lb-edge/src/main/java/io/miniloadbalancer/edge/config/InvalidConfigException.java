package io.miniloadbalancer.edge.config;

/** A configuration error; its message names the key and the line, or the variable. */
public final class InvalidConfigException extends Exception {

  private static final long serialVersionUID = 1L;

  InvalidConfigException(Exception cause) {
    super(cause.getMessage(), cause);
  }
}
