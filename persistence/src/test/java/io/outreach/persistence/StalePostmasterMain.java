package io.outreach.persistence;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Stands in for an engine JVM that gets killed: starts the embedded server on the directory in
 * {@code args[0]}, reports its port, and blocks until it is killed.
 */
final class StalePostmasterMain {

  static final String READY = "POSTMASTER-READY";

  private StalePostmasterMain() {}

  public static void main(String[] args) throws IOException {
    EmbeddedPostgresServer server = EmbeddedPostgresServer.start(Path.of(args[0]));
    System.out.println(READY + " " + server.port());
    System.out.flush();
    // Blocks until the parent kills this JVM; the server is deliberately never closed.
    while (System.in.read() != -1) {
      // keep waiting
    }
  }
}
