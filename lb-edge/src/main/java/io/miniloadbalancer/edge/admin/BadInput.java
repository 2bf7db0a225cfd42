package io.miniloadbalancer.edge.admin;

/** Bad client input: a 400 with this message. Stackless: clients cause it, no bug to trace. */
final class BadInput extends RuntimeException {
  private static final long serialVersionUID = 1L;

  BadInput(String message) {
    super(message, null, false, false);
  }
}
