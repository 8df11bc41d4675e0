package io.outreach.engine.lead;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

/** Reading lead files: RFC 4180 round trips, row numbering, and files that cannot be read. */
class CsvRecordsTest {

  @Test
  void readsQuotedFieldsWithCommasQuotesAndNewlines() {
    String csv =
        "\uFEFF Phone ,EMAIL,Note\r\n"
            + "\"(212) 555-0123\",a@b.co,\"says \"\"hi\"\", then, leaves\"\r\n"
            + "\r\n"
            + "+1 305 555 0123,,\"two\nlines\r\nand crlf\"\n";
    try (CsvRecords records = CsvRecords.open(new StringReader(csv))) {
      assertThat(records.header()).containsExactly("phone", "email", "note");
      assertThat(records.next())
          .isEqualTo(
              new CsvRecord(1, List.of("(212) 555-0123", "a@b.co", "says \"hi\", then, leaves")));
      assertThat(records.next())
          .isEqualTo(new CsvRecord(2, List.of("+1 305 555 0123", "", "two\nlines\r\nand crlf")));
      assertThat(records.hasNext()).isFalse();
    }
  }

  @Test
  void rowsMayHaveAnyNumberOfFields() {
    try (CsvRecords records = CsvRecords.open(new StringReader("a,b\n1\n1,2,3\n1,2,\n"))) {
      assertThat(records.next().fields()).containsExactly("1");
      assertThat(records.next().fields()).containsExactly("1", "2", "3");
      assertThat(records.next().fields()).containsExactly("1", "2", "");
    }
  }

  @Test
  void anEmptyFileHasNoHeader() {
    for (String csv : List.of("", "\n\n", "\uFEFF")) {
      assertThatThrownBy(() -> CsvRecords.open(new StringReader(csv)))
          .isInstanceOf(CsvFormatException.class)
          .hasMessage("the file has no header row");
    }
  }

  @Test
  void duplicateColumnNamesAreRefusedByName() {
    assertThatThrownBy(() -> CsvRecords.open(new StringReader("Phone,email, phone ,x,X,,\n")))
        .isInstanceOf(CsvFormatException.class)
        .hasMessage("the header row names these columns more than once: phone, x")
        .extracting(e -> ((CsvFormatException) e).row())
        .isEqualTo(0L);
  }

  @Test
  void aHeaderOrRowBeyondTheColumnLimitIsRefusedNamingTheLimit() {
    String wide = "phone," + "c,".repeat(CsvRecords.MAX_COLUMNS) + "\n";
    assertThatThrownBy(() -> CsvRecords.open(new StringReader(wide)))
        .isInstanceOf(CsvFormatException.class)
        .hasMessage("the header row has more than 500 columns (the limit)");
    String csv = "phone\n" + "1,".repeat(CsvRecords.MAX_COLUMNS) + "1\n";
    try (CsvRecords records = CsvRecords.open(new StringReader(csv))) {
      assertThatThrownBy(records::next)
          .isInstanceOfSatisfying(CsvFormatException.class, e -> assertThat(e.row()).isEqualTo(1))
          .hasMessage("row 1 has more than 500 columns (the limit)");
    }
  }

  @Test
  void aCellBeyondTheLengthLimitIsRefusedNamingItsColumn() {
    String longName = "x".repeat(CsvRecords.MAX_CELL_CHARS + 1);
    assertThatThrownBy(() -> CsvRecords.open(new StringReader("phone," + longName + "\n")))
        .isInstanceOf(CsvFormatException.class)
        .hasMessage("the header row: column 2 is longer than 10000 characters (the limit)");
    String csv = "phone,note\n2125550123,\"" + longName + "\"\n";
    try (CsvRecords records = CsvRecords.open(new StringReader(csv))) {
      assertThatThrownBy(records::next)
          .hasMessage("row 1: column 2 is longer than 10000 characters (the limit)");
    }
    // Exactly at the limit is fine.
    String atLimit = "phone,note\n2125550123," + "y".repeat(CsvRecords.MAX_CELL_CHARS) + "\n";
    try (CsvRecords records = CsvRecords.open(new StringReader(atLimit))) {
      assertThat(records.next().fields().get(1)).hasSize(CsvRecords.MAX_CELL_CHARS);
    }
  }

  @Test
  void messagesNeverCarryAWholeHeader() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      names.add("column_with_a_rather_long_name_number_" + i + "_and_more");
    }
    String shown = CsvRecords.names(names);
    assertThat(shown).contains("... 300 in all").hasSizeLessThan(1_000);
    String csv = String.join(",", names) + "\n";
    try (CsvRecords records = CsvRecords.open(new StringReader(csv))) {
      assertThat(LeadColumns.of(records.header()).headerProblem())
          .hasValueSatisfying(p -> assertThat(p).hasSizeLessThan(1_100).contains("300 in all"));
    }
  }

  @Test
  void anUnterminatedQuoteNamesItsRow() {
    String csv = "phone,note\n2125550123,ok\n\n2125550124,\"never closed\n2125550125,x\n";
    try (CsvRecords records = CsvRecords.open(new StringReader(csv))) {
      assertThat(records.next().row()).isEqualTo(1);
      assertThatThrownBy(records::next)
          .isInstanceOfSatisfying(CsvFormatException.class, e -> assertThat(e.row()).isEqualTo(2))
          .hasMessageStartingWith("row 2: ");
    }
  }

  @Property(tries = 500)
  void readsBackWhatAnRfc4180WriterWrote(
      @ForAll("headers") List<String> header,
      @ForAll("rows") List<List<String>> rows,
      @ForAll boolean crlf,
      @ForAll boolean byteOrderMark,
      @ForAll("blankLines") List<Integer> blankLinesBefore,
      @ForAll boolean finalLineEnd) {
    String eol = crlf ? "\r\n" : "\n";
    StringBuilder csv = new StringBuilder(byteOrderMark ? "\uFEFF" : "");
    csv.append(line(header));
    for (int i = 0; i < rows.size(); i++) {
      csv.append(eol);
      csv.append(eol.repeat(blankLinesBefore.get(i % blankLinesBefore.size())));
      csv.append(line(rows.get(i)));
    }
    if (finalLineEnd) {
      csv.append(eol);
    }

    try (CsvRecords records = CsvRecords.open(new StringReader(csv.toString()))) {
      assertThat(records.header())
          .containsExactlyElementsOf(
              header.stream().map(h -> h.strip().toLowerCase(Locale.ROOT)).toList());
      List<CsvRecord> read = new ArrayList<>();
      records.forEachRemaining(read::add);
      List<CsvRecord> expected = new ArrayList<>();
      for (List<String> row : rows) {
        // A row of one blank cell is indistinguishable from a blank line, and skipped as one.
        if (!(row.size() == 1 && row.get(0).isBlank())) {
          expected.add(new CsvRecord(expected.size() + 1, row));
        }
      }
      assertThat(read).isEqualTo(expected);
    }
  }

  @Provide
  Arbitrary<List<String>> headers() {
    Arbitrary<String> name =
        Combinators.combine(
                Arbitraries.strings()
                    .withCharRange('a', 'z')
                    .withChars('_')
                    .ofMinLength(1)
                    .ofMaxLength(10),
                Arbitraries.of("", " ", "  "),
                Arbitraries.of(true, false))
            .as((n, pad, upper) -> pad + (upper ? n.toUpperCase(Locale.ROOT) : n) + pad);
    return name.list()
        .ofMinSize(1)
        .ofMaxSize(6)
        .uniqueElements(n -> n.strip().toLowerCase(Locale.ROOT));
  }

  @Provide
  Arbitrary<List<List<String>>> rows() {
    Arbitrary<String> cell =
        Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.strings().all().ofMaxLength(12)),
            Tuple.of(3, Arbitraries.strings().withChars(",\"\r\n \tab=+-@é\uFEFF").ofMaxLength(12)),
            Tuple.of(
                2,
                Arbitraries.of(
                    "=SUM(A1)",
                    "@cmd",
                    "+1 212 555 0123",
                    "-2",
                    "😀",
                    "👍🏽 ok",
                    "\r\n",
                    "\"",
                    "",
                    " ",
                    "\uFEFFx",
                    "a,b")));
    return cell.list().ofMinSize(1).ofMaxSize(6).list().ofMaxSize(20);
  }

  @Provide
  Arbitrary<List<Integer>> blankLines() {
    return Arbitraries.integers().between(0, 2).list().ofMinSize(1).ofMaxSize(5);
  }

  /** One record as a minimal RFC 4180 writer puts it, without the line end. */
  private static String line(List<String> cells) {
    List<String> quoted = new ArrayList<>();
    for (String cell : cells) {
      boolean special =
          cell.contains(",") || cell.contains("\"") || cell.contains("\r") || cell.contains("\n");
      quoted.add(special ? '"' + cell.replace("\"", "\"\"") + '"' : cell);
    }
    return String.join(",", quoted);
  }
}
