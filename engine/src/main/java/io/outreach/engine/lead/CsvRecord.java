package io.outreach.engine.lead;

import java.util.List;

/**
 * One data row of an uploaded CSV file, as read: the fields are the raw cell texts, untrimmed.
 *
 * @param row the 1-based number of the data row: the header is not counted, nor are blank lines, so
 *     row 1 is the first lead and error reports match what a user sees in a spreadsheet below the
 *     header
 * @param fields the cells of the row, in file order; empty cells are empty strings
 */
public record CsvRecord(long row, List<String> fields) {

  public CsvRecord {
    fields = List.copyOf(fields);
  }
}
