package io.outreach.persistence;

import java.util.List;

/**
 * The live schema differs from what the Flyway migrations define: someone changed it behind
 * Flyway's back, or a migration was edited without a new version. The engine refuses to start on
 * it, because code tested against one schema must not run against another.
 */
public final class SchemaDriftException extends RuntimeException {

  private final List<String> differences;

  public SchemaDriftException(List<String> differences) {
    super("schema drift: " + String.join("; ", differences));
    this.differences = List.copyOf(differences);
  }

  /** Each difference as one readable sentence. */
  public List<String> differences() {
    return differences;
  }
}
