package io.outreach.engine.lead;

/**
 * Writes cell values into the CSV files the engine produces (error reports, lead exports), which
 * users open in spreadsheets.
 */
public final class CsvCells {

  private CsvCells() {}

  /**
   * One cell, ready to put between commas.
   *
   * <p>A value a spreadsheet would run as a formula (it starts with {@code = + - @}, tab or CR)
   * gets a leading {@code '}, as OWASP advises against CSV injection: lead files come from outside,
   * and the export is opened by someone trusted. Then RFC 4180 quoting applies.
   *
   * @param value the raw value; null becomes an empty cell
   */
  public static String escape(String value) {
    if (value == null || value.isEmpty()) {
      return "";
    }
    String text = startsLikeFormula(value) ? "'" + value : value;
    if (!needsQuotes(text)) {
      return text;
    }
    return '"' + text.replace("\"", "\"\"") + '"';
  }

  private static boolean startsLikeFormula(String value) {
    char first = value.charAt(0);
    return first == '='
        || first == '+'
        || first == '-'
        || first == '@'
        || first == '\t'
        || first == '\r';
  }

  private static boolean needsQuotes(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == ',' || c == '"' || c == '\r' || c == '\n') {
        return true;
      }
    }
    return false;
  }
}
