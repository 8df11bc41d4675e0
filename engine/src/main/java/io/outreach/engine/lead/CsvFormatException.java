package io.outreach.engine.lead;

/**
 * An uploaded CSV file that cannot be read as RFC 4180 at all (as opposed to a row whose values are
 * wrong, which is a {@link RowError}): the import stops, and the message names the row.
 */
public final class CsvFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long row;

  /**
   * @param row the 1-based data row being read when reading failed; 0 for the header row
   */
  public CsvFormatException(long row, String message, Throwable cause) {
    super(message, cause);
    this.row = row;
  }

  public CsvFormatException(long row, String message) {
    this(row, message, null);
  }

  /** The 1-based data row being read when reading failed; 0 for the header row. */
  public long row() {
    return row;
  }
}
