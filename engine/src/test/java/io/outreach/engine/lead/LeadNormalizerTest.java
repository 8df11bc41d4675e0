package io.outreach.engine.lead;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberFormat;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import io.outreach.engine.lead.LeadNormalizer.Accepted;
import io.outreach.engine.lead.LeadNormalizer.Outcome;
import io.outreach.engine.lead.LeadNormalizer.Rejected;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** From CSV rows to leads: phone, email, zones, state, consent, and every reason to refuse. */
class LeadNormalizerTest {

  private static final PhoneNumberUtil PHONES = PhoneNumberUtil.getInstance();
  private static final ZoneId TENANT_ZONE = ZoneId.of("America/Denver");
  private static final List<String> HEADER =
      List.of(
          "first_name",
          "last_name",
          "phone",
          "email",
          "company",
          "state",
          "timezone",
          "consent_at",
          "plan");
  private static final LeadColumns COLUMNS = LeadColumns.of(HEADER);

  private final LeadNormalizer normalizer = new LeadNormalizer("US", TENANT_ZONE);

  /** A row of the test header, by column name; unnamed columns are empty. */
  private static CsvRecord row(String... namesAndValues) {
    List<String> fields = new ArrayList<>(Collections.nCopies(HEADER.size(), ""));
    for (int i = 0; i < namesAndValues.length; i += 2) {
      fields.set(HEADER.indexOf(namesAndValues[i]), namesAndValues[i + 1]);
    }
    return new CsvRecord(7, fields);
  }

  private NormalizedLead accepted(CsvRecord record) {
    Outcome outcome = normalizer.normalize(record, COLUMNS);
    assertThat(outcome).isInstanceOf(Accepted.class);
    return ((Accepted) outcome).lead();
  }

  private List<RowError> rejected(CsvRecord record) {
    Outcome outcome = normalizer.normalize(record, COLUMNS);
    assertThat(outcome).isInstanceOf(Rejected.class);
    return ((Rejected) outcome).errors();
  }

  @Test
  void acceptsACompleteRow() {
    NormalizedLead lead =
        accepted(
            row(
                "first_name",
                "  Ada ",
                "last_name",
                "Lovelace",
                "phone",
                "(212) 555-0123",
                "email",
                " Ada@Example.COM ",
                "company",
                "=SUM(A1)",
                "consent_at",
                "2025-01-31T12:00:00Z",
                "plan",
                " gold "));
    assertThat(lead.row()).isEqualTo(7);
    assertThat(lead.phone()).isEqualTo("+12125550123");
    assertThat(lead.email()).isEqualTo("ada@example.com");
    assertThat(lead.firstName()).isEqualTo("Ada");
    assertThat(lead.company()).isEqualTo("=SUM(A1)");
    assertThat(lead.address()).isNull();
    assertThat(lead.state()).isEqualTo("NY");
    assertThat(lead.timezones()).containsExactly("America/New_York");
    assertThat(lead.consentAt()).isEqualTo(Instant.parse("2025-01-31T12:00:00Z"));
    assertThat(lead.attributes()).containsExactly(Map.entry("plan", " gold "));
    assertThat(lead.dedupKey()).isEqualTo("p:+12125550123");
  }

  @Test
  void anEmailOnlyLeadIsKeyedByEmailAndGetsTheTenantZone() {
    NormalizedLead lead = accepted(row("email", "bob@example.org"));
    assertThat(lead.phone()).isNull();
    assertThat(lead.dedupKey()).isEqualTo("e:bob@example.org");
    assertThat(lead.timezones()).containsExactly("America/Denver");
    assertThat(lead.state()).isNull();
    assertThat(lead.attributes()).isEmpty();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "(212) 123-4567|not a valid number for region US",
        "123|not a valid number for region US (too short)",
        "call me|not a phone number",
        "+999 123 4567|not a known country code",
        "+44 20 7946 095|not a valid number for country code +44",
        "2125550123456789012|too long to be a phone number",
      })
  void refusesInvalidPhones(String phone, String reason) {
    assertThat(rejected(row("phone", phone))).containsExactly(new RowError(7, "phone", reason));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource({
    "plainaddress",
    "a@b",
    "a b@example.com",
    "a@@example.com",
    "a@example..com",
    "@example.com",
    "a@.example.com",
    "a@example.c"
  })
  void refusesInvalidEmails(String email) {
    assertThat(rejected(row("email", email)))
        .containsExactly(new RowError(7, "email", "not a valid email address"));
  }

  @Test
  void refusesOverlongEmails() {
    String email = "a".repeat(64) + "@" + "b".repeat(60) + "." + "c".repeat(60) + ".com";
    assertThat(accepted(row("email", email)).email()).isEqualTo(email);
    String overlong = "a".repeat(64) + "@" + ("b".repeat(60) + ".").repeat(4) + "com";
    assertThat(rejected(row("email", overlong)))
        .containsExactly(new RowError(7, "email", "not a valid email address"));
  }

  @Test
  void reportsEveryBadCellOfARow() {
    assertThat(rejected(row("phone", "(212) 123-4567", "email", "nope", "consent_at", "soon")))
        .containsExactly(
            new RowError(7, "phone", "not a valid number for region US"),
            new RowError(7, "email", "not a valid email address"),
            new RowError(7, "consent_at", "not an ISO-8601 date or timestamp"));
  }

  @Test
  void aLeadNeedsAPhoneOrAnEmail() {
    assertThat(rejected(row("first_name", "Ada", "phone", "  ")))
        .containsExactly(new RowError(7, null, "a lead needs a phone or an email"));
  }

  @Test
  void aRowMustHaveAsManyFieldsAsTheHeader() {
    assertThat(normalizer.normalize(new CsvRecord(3, List.of("a", "2125550123")), COLUMNS))
        .isEqualTo(new Rejected(List.of(new RowError(3, null, "expected 9 fields, found 2"))));
  }

  @Test
  void takesTheTimezoneColumnWhenItIsAnIanaZone() {
    assertThat(accepted(row("phone", "2125550123", "timezone", "Europe/Paris")).timezones())
        .containsExactly("Europe/Paris");
    assertThat(accepted(row("phone", "2125550123", "timezone", "Eastern")).timezones())
        .containsExactly("America/New_York");
    assertThat(accepted(row("email", "a@b.co", "timezone", "Mars/Olympus")).timezones())
        .containsExactly("America/Denver");
  }

  @Test
  void keepsEveryZoneOfANumberThatSpansSeveral() {
    // libphonenumber 9.0.23 maps these exchanges to more than one zone.
    assertThat(accepted(row("phone", "(907) 200-4567")).timezones())
        .containsExactly("America/Adak", "America/Anchorage");
    assertThat(accepted(row("phone", "(208) 200-4567")).timezones())
        .containsExactly("America/Boise", "America/Los_Angeles");
  }

  @Test
  void zonesFollowTheExchangeNotJustTheAreaCode() {
    // Area code 219 (Indiana) is Eastern for most exchanges and Central around Crown Point.
    assertThat(accepted(row("phone", "(219) 200-4567")).timezones())
        .containsExactly("America/New_York");
    assertThat(accepted(row("phone", "(219) 226-4567")).timezones())
        .containsExactly("America/Chicago");
    assertThat(accepted(row("phone", "(219) 200-4568")).timezones())
        .containsExactly("America/New_York");
  }

  @Test
  void otherCountriesGetTheirZonesToo() {
    assertThat(accepted(row("phone", "+44 20 7946 0958")).timezones())
        .containsExactly("Europe/London");
    assertThat(accepted(row("phone", "+61 8 9123 4567")).timezones())
        .containsExactly("Australia/Adelaide", "Australia/Perth");
    assertThat(accepted(row("phone", "+44 20 7946 0958")).state()).isNull();
  }

  @ParameterizedTest(name = "[{index}] {0} {1}")
  @CsvSource({
    "(212) 555-0123, '', NY",
    "(305) 555-0123, '', FL",
    "(415) 555-0123, '', CA",
    "(206) 555-0123, '', WA",
    "+1 202 555 0123, '', DC",
    "+1 787 555 0123, '', PR",
    "(416) 555-0123, '', ''",
    "(212) 555-0123, tx, TX",
    "(212) 555-0123, new jersey, NJ",
    "(212) 555-0123, District of Columbia, DC",
    "(212) 555-0123, Ontario, NY",
    "'', Ohio, OH",
  })
  void findsTheState(String phone, String stateCell, String state) {
    CsvRecord record =
        phone.isEmpty()
            ? row("email", "a@b.co", "state", stateCell)
            : row("phone", phone, "state", stateCell);
    assertThat(accepted(record).state()).isEqualTo(state.isEmpty() ? null : state);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource({
    "2025-01-31T12:00:00Z, 2025-01-31T12:00:00Z",
    "2025-01-31T12:00:00.250Z, 2025-01-31T12:00:00.250Z",
    "2025-01-31T14:00:00+02:00, 2025-01-31T12:00:00Z",
    "2025-01-31, 2025-01-31T07:00:00Z",
    "2025-07-01, 2025-07-01T06:00:00Z",
  })
  void readsConsentTimes(String cell, String instant) {
    assertThat(accepted(row("email", "a@b.co", "consent_at", cell)).consentAt())
        .isEqualTo(Instant.parse(instant));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource({"31/01/2025", "2025-01-31 12:00", "2025-01-31T12:00:00", "yesterday", "2025-02-30"})
  void refusesOtherConsentTimes(String cell) {
    assertThat(rejected(row("email", "a@b.co", "consent_at", cell)))
        .containsExactly(new RowError(7, "consent_at", "not an ISO-8601 date or timestamp"));
  }

  @Test
  void refusesUnknownRegions() {
    assertThatThrownBy(() -> new LeadNormalizer("XX", TENANT_ZONE))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // Known US area codes; the exchange and line are free, and libphonenumber decides validity.
  private static final int[] AREA_CODES = {212, 305, 415, 312, 617, 713, 206, 404, 303, 602, 907};

  @Property(tries = 300)
  void everyWayOfWritingAUsNumberGivesTheSameE164(
      @ForAll @IntRange(min = 0, max = 10) int area,
      @ForAll @IntRange(min = 200, max = 999) int exchange,
      @ForAll @IntRange(min = 0, max = 9999) int line,
      @ForAll("padding") String padding,
      @ForAll("formulas") String formula) {
    int areaCode = AREA_CODES[area];
    PhoneNumber number =
        new PhoneNumber()
            .setCountryCode(1)
            .setNationalNumber(areaCode * 10_000_000L + exchange * 10_000L + line);
    Assume.that(PHONES.isValidNumber(number));
    String e164 = PHONES.format(number, PhoneNumberFormat.E164);
    String a = Integer.toString(areaCode);
    String e = Integer.toString(exchange);
    String l = String.format("%04d", line);
    List<String> writings =
        List.of(
            "(" + a + ") " + e + "-" + l,
            a + "-" + e + "-" + l,
            a + "." + e + "." + l,
            a + e + l,
            "+1 " + a + " " + e + " " + l,
            "+1 (" + a + ") " + e + "-" + l,
            "1-" + a + "-" + e + "-" + l,
            "1" + a + e + l,
            "+1" + a + e + l,
            a + " " + e + " " + l + " ext. 12",
            "tel: " + a + "/" + e + "/" + l);
    for (String writing : writings) {
      NormalizedLead lead =
          accepted(
              row(
                  "phone",
                  padding + writing + padding,
                  "first_name",
                  padding + "Ada" + padding,
                  "last_name",
                  formula,
                  "plan",
                  formula));
      assertThat(lead.phone()).as(writing).isEqualTo(e164);
      assertThat(lead.firstName()).isEqualTo("Ada");
      assertThat(lead.lastName()).isEqualTo(formula);
      assertThat(lead.attributes()).containsExactly(Map.entry("plan", formula));
    }
  }

  @Property(tries = 1000)
  void agreesWithLibphonenumberOnAnyDigitsAndPunctuation(@ForAll("phoneLike") String cell) {
    String expected;
    try {
      PhoneNumber number = PHONES.parse(cell, "US");
      expected =
          PHONES.isValidNumber(number) ? PHONES.format(number, PhoneNumberFormat.E164) : null;
    } catch (NumberParseException e) {
      expected = null;
    }
    Assume.that(!cell.isBlank());
    Outcome outcome = normalizer.normalize(row("phone", cell), COLUMNS);
    if (expected == null) {
      assertThat(outcome).isInstanceOf(Rejected.class);
    } else {
      assertThat(outcome).isInstanceOf(Accepted.class);
      assertThat(((Accepted) outcome).lead().phone()).isEqualTo(expected);
    }
  }

  @Provide
  Arbitrary<String> padding() {
    return Arbitraries.of("", " ", "\t", "  \u2003");
  }

  @Provide
  Arbitrary<String> formulas() {
    return Arbitraries.of("=SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "=1+1");
  }

  @Provide
  Arbitrary<String> phoneLike() {
    Arbitrary<String> nanp =
        Arbitraries.of(Arrays.stream(AREA_CODES).boxed().toArray(Integer[]::new))
            .flatMap(
                area ->
                    Arbitraries.strings()
                        .withChars("0123456789 -.()")
                        .ofMinLength(7)
                        .ofMaxLength(12)
                        .map(rest -> area + rest));
    Arbitrary<String> any = Arbitraries.strings().withChars("+0123456789 -.()x").ofMaxLength(16);
    Arbitrary<String> prefixed =
        Arbitraries.of("+1", "1", "+44", "+", "")
            .flatMap(prefix -> nanp.map(rest -> prefix + rest));
    return Arbitraries.oneOf(nanp, any, prefixed);
  }
}
