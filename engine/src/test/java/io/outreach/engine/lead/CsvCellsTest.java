package io.outreach.engine.lead;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Cells the engine writes are safe to open in a spreadsheet and valid RFC 4180. */
class CsvCellsTest {

  @ParameterizedTest(name = "[{index}] {0} -> {1}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "plain|plain",
        "=SUM(A1)|'=SUM(A1)",
        "+12125550123|'+12125550123",
        "-2|'-2",
        "@cmd|'@cmd",
        "a,b|\"a,b\"",
        "say \"hi\"|\"say \"\"hi\"\"\"",
        "=HYPERLINK(\"x\",\"y\")|\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"",
        "a=b|a=b",
      })
  void escapes(String value, String cell) {
    assertThat(CsvCells.escape(value)).isEqualTo(cell);
  }

  @Test
  void escapesControlCharactersAndNull() {
    assertThat(CsvCells.escape(null)).isEmpty();
    assertThat(CsvCells.escape("")).isEmpty();
    assertThat(CsvCells.escape("\tcmd")).isEqualTo("'\tcmd");
    assertThat(CsvCells.escape("\rcmd")).isEqualTo("\"'\rcmd\"");
    assertThat(CsvCells.escape("two\nlines")).isEqualTo("\"two\nlines\"");
    assertThat(CsvCells.escape("crlf\r\n")).isEqualTo("\"crlf\r\n\"");
  }
}
