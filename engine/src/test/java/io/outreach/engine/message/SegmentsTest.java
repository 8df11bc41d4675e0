package io.outreach.engine.message;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.engine.message.Segments.Encoding;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** Segment counts match the known answers in shared/TEST-VECTORS.md ("SMS segments"). */
class SegmentsTest {

  /**
   * The GSM 03.38 default alphabet, written out here again from the standard's table rather than
   * taken from {@link Segments}, so the property checks the class against the standard.
   */
  private static final String GSM_BASIC =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
          + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

  private static final String GSM_EXTENSION = "^{}\\[~]|€\f";

  @Test
  void knownAnswers() {
    assertThat(Segments.count("a".repeat(160))).isEqualTo(new Segments(Encoding.GSM_7, 160, 1));
    assertThat(Segments.count("a".repeat(161))).isEqualTo(new Segments(Encoding.GSM_7, 161, 2));
    assertThat(Segments.count("don’t")).isEqualTo(new Segments(Encoding.UCS_2, 5, 1));
    assertThat(Segments.count("👋".repeat(35))).isEqualTo(new Segments(Encoding.UCS_2, 70, 1));
    assertThat(Segments.count("é".repeat(70) + "😀"))
        .isEqualTo(new Segments(Encoding.UCS_2, 72, 2));
    assertThat(Segments.count("€".repeat(80))).isEqualTo(new Segments(Encoding.GSM_7, 160, 1));
    assertThat(Segments.count("€".repeat(81))).isEqualTo(new Segments(Encoding.GSM_7, 162, 2));
  }

  @Test
  void boundaries() {
    assertThat(Segments.count("a".repeat(306)).segments()).isEqualTo(2);
    assertThat(Segments.count("a".repeat(307)).segments()).isEqualTo(3);
    assertThat(Segments.count("ж".repeat(70)).segments()).isEqualTo(1);
    assertThat(Segments.count("ж".repeat(71)).segments()).isEqualTo(2);
    assertThat(Segments.count("ж".repeat(134)).segments()).isEqualTo(2);
    assertThat(Segments.count("ж".repeat(135)).segments()).isEqualTo(3);
  }

  @Test
  void emptyBodyIsOneSegmentOfNothing() {
    assertThat(Segments.count("")).isEqualTo(new Segments(Encoding.GSM_7, 0, 1));
  }

  @Test
  void wholeAlphabetIsGsm7() {
    assertThat(GSM_BASIC).hasSize(127);
    assertThat(Segments.count(GSM_BASIC)).isEqualTo(new Segments(Encoding.GSM_7, 127, 1));
    assertThat(Segments.count(GSM_EXTENSION)).isEqualTo(new Segments(Encoding.GSM_7, 20, 1));
  }

  @Test
  void charactersOutsideGsm7MakeUcs2() {
    // Lower-case ç, accented capitals other than ÄÖÑÜÅÆÇÉØ, the backtick and curly quotes are not
    // in the default alphabet even though they look as if they might be.
    for (String text : new String[] {"ç", "Á", "È", "`", "“hi”", "ж", "\t", "\u00A0"}) {
      assertThat(Segments.count(text).encoding()).as(text).isEqualTo(Encoding.UCS_2);
    }
  }

  @Property(tries = 500)
  void gsm7TextIsCountedInSeptets(@ForAll("gsm7") String text) {
    int units = 0;
    for (char c : text.toCharArray()) {
      units += GSM_EXTENSION.indexOf(c) >= 0 ? 2 : 1;
    }

    Segments segments = Segments.count(text);

    assertThat(segments.encoding()).isEqualTo(Encoding.GSM_7);
    assertThat(segments.units()).isEqualTo(units);
    assertThat(segments.segments()).isEqualTo(units <= 160 ? 1 : (int) Math.ceil(units / 153.0));
  }

  @Property(tries = 500)
  void anyOtherCharacterMakesUcs2(@ForAll("withOneNonGsm7") String text) {
    Segments segments = Segments.count(text);

    assertThat(segments.encoding()).isEqualTo(Encoding.UCS_2);
    assertThat(segments.units()).isEqualTo(text.length());
    assertThat(segments.segments())
        .isEqualTo(text.length() <= 70 ? 1 : (int) Math.ceil(text.length() / 67.0));
  }

  @Provide
  Arbitrary<String> gsm7() {
    return Arbitraries.strings().withChars(GSM_BASIC + GSM_EXTENSION).ofMaxLength(500);
  }

  @Provide
  Arbitrary<String> withOneNonGsm7() {
    Arbitrary<String> outside =
        Arbitraries.oneOf(
            Arbitraries.chars()
                .filter(c -> GSM_BASIC.indexOf(c) < 0 && GSM_EXTENSION.indexOf(c) < 0)
                .map(String::valueOf),
            Arbitraries.of("😀", "👋", "’", "ç"));
    return Combinators.combine(gsm7(), outside, Arbitraries.integers().between(0, 500))
        .as(
            (gsm, other, at) -> {
              int i = Math.min(at, gsm.length());
              return gsm.substring(0, i) + other + gsm.substring(i);
            });
  }
}
