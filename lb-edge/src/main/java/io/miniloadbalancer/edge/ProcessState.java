package io.miniloadbalancer.edge;

import io.miniloadbalancer.edge.http.Readiness;

/** Where the process is in its life; the root moves it, both listeners read it. */
final class ProcessState implements Readiness {

  private volatile String state = "starting";

  @Override
  public String state() {
    return state;
  }

  void set(String next) {
    state = next;
  }
}
