package io.outreach.engine.lead;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberFormat;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberType;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import io.outreach.engine.lead.LeadNormalizer.Accepted;
import io.outreach.engine.lead.LeadNormalizer.Outcome;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The normalizer's own validity test for NANP numbers gives libphonenumber's answers — the rules of
 * each region, the region of a number, and the normalizer's verdict — on numbers near real ones of
 * every region of country code 1 (their example numbers of every type, with random exchanges and
 * lines, which covers the toll-free codes several countries share) and on any ten digits or other
 * lengths.
 */
class NanpNumbersTest {

  private static final PhoneNumberUtil PHONES = PhoneNumberUtil.getInstance();
  private static final List<String> NANP_REGIONS =
      List.copyOf(PHONES.getRegionCodesForCountryCode(1));
  private static final Map<String, RegionNumberRules> RULES = new ConcurrentHashMap<>();
  private static final List<String> EXAMPLE_PREFIXES = examplePrefixes();

  private final LeadNormalizer normalizer = new LeadNormalizer("US", ZoneId.of("America/Denver"));
  private final LeadColumns columns = LeadColumns.of(List.of("phone"));

  /** The first 3 to 6 digits of every example number of every NANP region and type. */
  private static List<String> examplePrefixes() {
    List<String> prefixes = new ArrayList<>();
    for (String region : NANP_REGIONS) {
      for (PhoneNumberType type : PhoneNumberType.values()) {
        PhoneNumber example = PHONES.getExampleNumberForType(region, type);
        if (example != null) {
          String national = PHONES.getNationalSignificantNumber(example);
          for (int n = 3; n <= Math.min(6, national.length()); n++) {
            prefixes.add(national.substring(0, n));
          }
        }
      }
    }
    return List.copyOf(prefixes);
  }

  @Property(tries = 5_000)
  void agreesWithIsValidNumberForRegion(
      @ForAll("nationalNumbers") String national, @ForAll("regions") String region) {
    PhoneNumber number =
        new PhoneNumber().setCountryCode(1).setNationalNumber(Long.parseLong(national));
    RegionNumberRules rules = RULES.computeIfAbsent(region, RegionNumberRules::of);
    assertThat(rules.isValid(1, national))
        .as("%s in %s", national, region)
        .isEqualTo(PHONES.isValidNumberForRegion(number, region));
    assertThat(rules.isValid(44, national)).as("another country code is never valid").isFalse();
  }

  @Property(tries = 10_000)
  void findsTheRegionIsValidNumberFinds(@ForAll("tenDigits") String national) {
    PhoneNumber number =
        new PhoneNumber().setCountryCode(1).setNationalNumber(Long.parseLong(national));
    String expected = PHONES.isValidNumber(number) ? PHONES.getRegionCodeForNumber(number) : null;
    assertThat(NanpNumbers.validRegion(Long.parseLong(national))).as(national).isEqualTo(expected);
  }

  @Property(tries = 5_000)
  void theNormalizerAcceptsExactlyTheValidNumbers(@ForAll("tenDigits") String national) {
    PhoneNumber number =
        new PhoneNumber().setCountryCode(1).setNationalNumber(Long.parseLong(national));
    String expected =
        PHONES.isValidNumber(number) ? PHONES.format(number, PhoneNumberFormat.E164) : null;
    for (String cell : List.of("+1" + national, national, "1 " + national)) {
      Outcome outcome = normalizer.normalize(new CsvRecord(1, List.of(cell)), columns);
      if (expected == null) {
        assertThat(outcome).as(cell).isInstanceOf(LeadNormalizer.Rejected.class);
      } else {
        assertThat(outcome).as(cell).isInstanceOf(Accepted.class);
        assertThat(((Accepted) outcome).lead().phone()).as(cell).isEqualTo(expected);
      }
    }
  }

  @Provide
  Arbitrary<String> regions() {
    return Arbitraries.of(NANP_REGIONS);
  }

  @Provide
  Arbitrary<String> tenDigits() {
    return Arbitraries.frequencyOf(Tuple.of(2, nearExamples()), Tuple.of(1, anyTenDigits()));
  }

  @Provide
  Arbitrary<String> nationalNumbers() {
    Arbitrary<String> otherLengths =
        Arbitraries.longs().between(1L, 999_999_999_999L).map(n -> Long.toString(n));
    return Arbitraries.frequencyOf(
        Tuple.of(6, nearExamples()), Tuple.of(3, anyTenDigits()), Tuple.of(1, otherLengths));
  }

  private static Arbitrary<String> nearExamples() {
    return Combinators.combine(
            Arbitraries.of(EXAMPLE_PREFIXES), Arbitraries.strings().numeric().ofLength(10))
        .as((prefix, digits) -> prefix + digits.substring(prefix.length()));
  }

  private static Arbitrary<String> anyTenDigits() {
    return Arbitraries.longs().between(2_000_000_000L, 9_999_999_999L).map(n -> Long.toString(n));
  }
}
