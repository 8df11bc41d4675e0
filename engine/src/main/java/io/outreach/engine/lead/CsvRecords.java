package io.outreach.engine.lead;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.IOException;
import java.io.PushbackReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * Streams the rows of an uploaded lead file (RFC 4180 CSV with a header row) one at a time, so an
 * import of any size runs in constant memory: only the record being handed out is held.
 *
 * <p>The header is read when the file is opened, so a file without one, or with two columns of the
 * same name, is refused before any lead is looked at. Blank (empty or whitespace-only) lines are
 * skipped and not counted as rows. Not thread-safe: one reader per import.
 */
public final class CsvRecords implements Iterator<CsvRecord>, AutoCloseable {

  // Without a schema, jackson-dataformat-csv exposes each row as an array of strings, whatever its
  // length; WRAP_AS_ARRAY adds one outer array around the whole file. SKIP_EMPTY_LINES stays off:
  // it also strips the leading spaces of every line's first cell (" a" reads as "a"), so blank
  // lines are skipped here instead (see isBlankLine).
  private static final CsvMapper MAPPER =
      CsvMapper.builder()
          .enable(CsvParser.Feature.WRAP_AS_ARRAY)
          .disable(CsvParser.Feature.SKIP_EMPTY_LINES)
          // A trailing comma is an empty last cell: dropping it would make the row look short.
          .disable(CsvParser.Feature.ALLOW_TRAILING_COMMA)
          .build();

  private static final char BYTE_ORDER_MARK = '\uFEFF';

  private final CsvParser parser;

  /** The most columns a row (the header too) may have. */
  public static final int MAX_COLUMNS = 500;

  /** The longest cell (a column name too), in characters. */
  public static final int MAX_CELL_CHARS = 10_000;

  private final List<String> header;
  private CsvRecord next;
  private long rowsRead;
  private boolean finished;

  private CsvRecords(CsvParser parser, List<String> header) {
    this.parser = parser;
    this.header = header;
  }

  /**
   * Opens a lead file and reads its header row.
   *
   * @param reader the decoded text (the caller picks the charset, normally UTF-8); closed by {@link
   *     #close()}, or here if the header cannot be read
   * @throws CsvFormatException if there is no header row, it is malformed, or two columns have the
   *     same name after trimming and lower-casing
   */
  public static CsvRecords open(Reader reader) {
    CsvParser parser;
    try {
      parser = MAPPER.getFactory().createParser(withoutByteOrderMark(reader));
    } catch (IOException e) {
      closeQuietly(reader);
      throw new UncheckedIOException(e);
    }
    try {
      List<String> names = readRow(parser, 0);
      if (names == null) {
        throw new CsvFormatException(0, "the file has no header row");
      }
      return new CsvRecords(parser, normalizedHeader(names));
    } catch (RuntimeException e) {
      closeQuietly(parser);
      throw e;
    }
  }

  /** The column names, trimmed and lower-cased, in file order. */
  public List<String> header() {
    return header;
  }

  @Override
  public boolean hasNext() {
    if (next == null && !finished) {
      List<String> fields = readRow(parser, rowsRead + 1);
      if (fields == null) {
        finished = true;
      } else {
        rowsRead++;
        next = new CsvRecord(rowsRead, fields);
      }
    }
    return next != null;
  }

  /**
   * The next data row.
   *
   * @throws CsvFormatException if the file is malformed at that row
   */
  @Override
  public CsvRecord next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    CsvRecord record = next;
    next = null;
    return record;
  }

  /** Closes the parser and the underlying reader. */
  @Override
  public void close() {
    try {
      parser.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The cells of the next row, or null at the end of the file. */
  private static List<String> readRow(CsvParser parser, long row) {
    try {
      JsonToken token = parser.nextToken();
      if (token == JsonToken.START_ARRAY && parser.getParsingContext().getParent().inRoot()) {
        // The outer array that WRAP_AS_ARRAY puts around the file: step inside it.
        token = parser.nextToken();
      }
      while (token != null && token != JsonToken.END_ARRAY) {
        List<String> fields = new ArrayList<>();
        for (token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
          if (token == null) {
            throw new CsvFormatException(row, where(row) + ": the file ends inside the row");
          }
          if (fields.size() == MAX_COLUMNS) {
            throw new CsvFormatException(
                row, where(row) + " has more than " + MAX_COLUMNS + " columns (the limit)");
          }
          if (parser.getTextLength() > MAX_CELL_CHARS) {
            throw new CsvFormatException(
                row,
                where(row)
                    + ": column "
                    + (fields.size() + 1)
                    + " is longer than "
                    + MAX_CELL_CHARS
                    + " characters (the limit)");
          }
          fields.add(parser.getText());
        }
        if (!isBlankLine(fields)) {
          return fields;
        }
        token = parser.nextToken();
      }
      return null;
    } catch (JacksonException e) {
      throw new CsvFormatException(row, where(row) + ": " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * An empty or whitespace-only line reads as one blank cell. A quoted blank cell alone on its line
   * reads the same and is skipped too: it carries nothing a lead could use.
   */
  private static boolean isBlankLine(List<String> fields) {
    return fields.size() == 1 && fields.get(0).isBlank();
  }

  private static String where(long row) {
    return row == 0 ? "the header row" : "row " + row;
  }

  private static List<String> normalizedHeader(List<String> names) {
    List<String> header = new ArrayList<>(names.size());
    Set<String> seen = new LinkedHashSet<>();
    Set<String> duplicates = new LinkedHashSet<>();
    for (String name : names) {
      String normalized = name.strip().toLowerCase(Locale.ROOT);
      // Spreadsheets often export unnamed trailing columns; those are ignored, not duplicates.
      if (!normalized.isEmpty() && !seen.add(normalized)) {
        duplicates.add(normalized);
      }
      header.add(normalized);
    }
    if (!duplicates.isEmpty()) {
      throw new CsvFormatException(
          0, "the header row names these columns more than once: " + names(duplicates));
    }
    return Collections.unmodifiableList(header);
  }

  /**
   * Column names for a message: the first 20, each cut to 40 characters, and how many there are in
   * all; an answer never carries a whole header back.
   */
  static String names(java.util.Collection<String> names) {
    List<String> shown =
        names.stream()
            .limit(20)
            .map(n -> n.length() > 40 ? n.substring(0, 40) + "..." : n)
            .toList();
    String more = names.size() > shown.size() ? ", ... " + names.size() + " in all" : "";
    return String.join(", ", shown) + more;
  }

  // A file saved by Excel as "CSV UTF-8" starts with a byte order mark; it is not part of the
  // first column name, quoted or not.
  private static Reader withoutByteOrderMark(Reader reader) throws IOException {
    PushbackReader pushback = new PushbackReader(reader, 1);
    int first = pushback.read();
    if (first != -1 && first != BYTE_ORDER_MARK) {
      pushback.unread(first);
    }
    return pushback;
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      // Already failing with a more useful exception.
    }
  }
}
