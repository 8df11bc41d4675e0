package io.outreach.engine.lead;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The hand-written email check accepts exactly what the regular expression it replaces accepts. */
class EmailSyntaxTest {

  private static final String ATOM = "[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-]+";
  private static final String LABEL = "[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}])?";

  /** The rule as it was written before: the reference. */
  private static final Pattern REFERENCE =
      Pattern.compile(
          ATOM
              + "(?:\\."
              + ATOM
              + ")*@(?:"
              + LABEL
              + "\\.)+\\p{L}[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}]");

  // Letters and numbers of every kind the classes distinguish (ASCII, Latin-1, CJK, a letter
  // outside the BMP, decimal, letter and other numbers), the atom punctuation, the separators,
  // and things that are neither (combining mark, emoji, space, a lone surrogate, a control).
  private static final List<String> PIECES =
      List.of(
          "a",
          "z",
          "A",
          "Q",
          "0",
          "9",
          "é",
          "ß",
          "中",
          "\uD835\uDC9C",
          "٣",
          "Ⅻ",
          "½",
          "!",
          "#",
          "$",
          "%",
          "&",
          "'",
          "*",
          "+",
          "/",
          "=",
          "?",
          "^",
          "_",
          "`",
          "{",
          "|",
          "}",
          "~",
          "-",
          ".",
          ".",
          "@",
          "@",
          "\u0301",
          "😀",
          " ",
          "\uD800",
          "\u0007",
          "(",
          ",",
          "\"");

  @Property(tries = 20_000)
  void agreesWithTheRegexOnAnyString(@ForAll("emailish") String s) {
    assertThat(EmailSyntax.isValid(s)).as(s).isEqualTo(REFERENCE.matcher(s).matches());
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 61, 62, 63, 64, 65})
  void labelLengthsAtTheLimits(int n) {
    String label = "a".repeat(n);
    String longLetter = "\uD835\uDC9C".repeat(n);
    for (String s :
        List.of(
            "x@" + label + ".com",
            "x@mail." + label,
            "x@" + label + "-b.de",
            "x@" + longLetter + ".org",
            "x@a." + longLetter,
            "x@a.b" + "1".repeat(Math.max(0, n - 1)),
            "x@a-" + label + "-.org",
            label + "@e.com")) {
      assertThat(EmailSyntax.isValid(s)).as(s).isEqualTo(REFERENCE.matcher(s).matches());
    }
  }

  @Provide
  Arbitrary<String> emailish() {
    Arbitrary<String> piece = Arbitraries.of(PIECES);
    Arbitrary<String> any = piece.list().ofMaxSize(12).map(p -> String.join("", p));
    Arbitrary<String> word =
        Arbitraries.oneOf(
            Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(8),
            piece.list().ofMinSize(1).ofMaxSize(4).map(p -> String.join("", p)));
    Arbitrary<String> dotted = word.list().ofMinSize(1).ofMaxSize(4).map(w -> String.join(".", w));
    Arbitrary<String> shaped =
        Combinators.combine(dotted, Arbitraries.of("@", "@", "@@", ""), dotted)
            .as((local, at, domain) -> local + at + domain);
    return Arbitraries.frequencyOf(Tuple.of(1, any), Tuple.of(4, shaped));
  }
}
