package io.outreach.persistence;

import java.sql.SQLException;

/**
 * An unchecked wrapper for a failed database call, so that callers in the engine and in routes need
 * not thread {@link SQLException} through code that cannot recover from it anyway. The cause keeps
 * the SQLState for the few callers that can (for example a unique violation).
 */
public final class DataAccessException extends RuntimeException {

  public DataAccessException(String message, SQLException cause) {
    super(message + ": " + cause.getMessage(), cause);
  }

  /** The SQLState of the underlying error, such as {@code 23505} or {@code 42501}. */
  public String sqlState() {
    return ((SQLException) getCause()).getSQLState();
  }
}
