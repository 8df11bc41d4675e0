package io.outreach.engine.lead;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberToTimeZonesMapper;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberFormat;
import com.google.i18n.phonenumbers.PhoneNumberUtil.ValidationResult;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import com.google.i18n.phonenumbers.geocoding.PhoneNumberOfflineGeocoder;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns one CSV row of an import into a lead the engine can contact, or into the reasons it cannot:
 * the phone must be a real number (libphonenumber's {@code isValidNumber}, not merely the right
 * length), the email must look deliverable, and one of the two must be there.
 *
 * <p>It also works out where the lead is, because calling-hours and state rules depend on it: the
 * time zones from the {@code timezone} column or else from the number, and the US state from the
 * {@code state} column or else from the number's area code.
 *
 * <p>Thread-safe: the caches are concurrent maps, and libphonenumber's singletons are thread-safe.
 * One instance per import (or per tenant) keeps the caches warm.
 */
public final class LeadNormalizer {

  /** What became of a row. */
  public sealed interface Outcome permits Accepted, Rejected {}

  /** The row is a lead. */
  public record Accepted(NormalizedLead lead) implements Outcome {}

  /** The row is not a lead, for all of these reasons (every bad cell is reported at once). */
  public record Rejected(List<RowError> errors) implements Outcome {
    public Rejected {
      errors = List.copyOf(errors);
    }
  }

  private static final PhoneNumberUtil PHONES = PhoneNumberUtil.getInstance();
  private static final String UNKNOWN_ZONE = "Etc/Unknown";
  private static final int NANP_COUNTRY_CODE = 1;
  private static final long NANP_LOWEST = 2_000_000_000L;
  private static final long NANP_HIGHEST = 9_999_999_999L;
  // Territories with their own NANP region code, which is also their USPS code.
  private static final Set<String> US_TERRITORY_REGIONS = Set.of("PR", "GU", "VI", "AS", "MP");
  // Copied once: ZoneId.getAvailableZoneIds() builds a new set on every call.
  private static final Set<String> ZONE_IDS = Set.copyOf(ZoneId.getAvailableZoneIds());
  // The longest prefix in libphonenumber's time-zone and geocoding data is 6 digits of the
  // national number for every country code (area code + exchange in NANP), so numbers sharing
  // their first 6 digits always share zones and state; a shorter key would be wrong: 219-xxx is
  // Eastern time for most exchanges and Central for others.
  private static final int LOCALITY_DIGITS = 6;
  // Bounds memory on files of scattered numbers; past it, lookups are made but not kept.
  private static final int MAX_CACHED_LOCALITIES = 200_000;
  private static final int MAX_EMAIL_LENGTH = 254;

  private final String defaultRegion;
  private final boolean defaultRegionIsNanp;
  private final List<String> tenantZones;
  private final ZoneId tenantZone;
  private final PhoneNumberToTimeZonesMapper zoneMapper =
      PhoneNumberToTimeZonesMapper.getInstance();
  private final PhoneNumberOfflineGeocoder geocoder = PhoneNumberOfflineGeocoder.getInstance();
  private final Map<Long, Locality> localities = new ConcurrentHashMap<>();

  /** Where numbers sharing a prefix are: their zones (never empty) and US state (or null). */
  private record Locality(List<String> timezones, String state) {}

  /** A valid number and the region it belongs to. */
  private record ValidNumber(PhoneNumber number, String e164, String region) {}

  /**
   * @param defaultRegion the ISO 3166 region ("US") that numbers written without a country code
   *     belong to
   * @param tenantZone the zone assumed for a lead when neither its row nor its number tells
   * @throws IllegalArgumentException if libphonenumber does not know the region
   */
  public LeadNormalizer(String defaultRegion, ZoneId tenantZone) {
    String region = defaultRegion.toUpperCase(Locale.ROOT);
    if (!PHONES.getSupportedRegions().contains(region)) {
      throw new IllegalArgumentException("not a region libphonenumber knows: " + defaultRegion);
    }
    this.defaultRegion = region;
    this.defaultRegionIsNanp = PHONES.getCountryCodeForRegion(region) == NANP_COUNTRY_CODE;
    this.tenantZone = tenantZone;
    this.tenantZones = List.of(tenantZone.getId());
  }

  /** Where a number is: its time zones and US state, as a lead with that number would get them. */
  public record Place(List<String> timezones, String usState) {}

  /**
   * The place of {@code phone} (E.164, or national in this normalizer's region): its time zones
   * (the tenant's when the number's are unknown) and US state; empty when it is not a valid number.
   * For contacts that reach a person who is not (or not only) a lead, such as an answer to a reply.
   */
  public Optional<Place> place(String phone) {
    try {
      Locality locality = locality(validNumber(phone));
      return Optional.of(new Place(locality.timezones(), locality.state()));
    } catch (InvalidPhone e) {
      return Optional.empty();
    }
  }

  /** Checks and normalizes one row read with the header that {@code columns} describes. */
  public Outcome normalize(CsvRecord record, LeadColumns columns) {
    long row = record.row();
    List<String> fields = record.fields();
    if (fields.size() != columns.size()) {
      return new Rejected(
          List.of(
              new RowError(
                  row, null, "expected " + columns.size() + " fields, found " + fields.size())));
    }
    List<RowError> errors = new ArrayList<>(2);

    String phoneCell = cell(fields, columns.phoneIndex());
    ValidNumber phone = null;
    if (phoneCell != null) {
      try {
        phone = validNumber(phoneCell);
      } catch (InvalidPhone e) {
        errors.add(new RowError(row, "phone", e.getMessage()));
      }
    }

    String email = cell(fields, columns.emailIndex());
    if (email != null) {
      email = email.toLowerCase(Locale.ROOT);
      if (email.length() > MAX_EMAIL_LENGTH || !EmailSyntax.isValid(email)) {
        errors.add(new RowError(row, "email", "not a valid email address"));
      }
    }
    if (phoneCell == null && email == null) {
      errors.add(new RowError(row, null, "a lead needs a phone or an email"));
    }

    Instant consentAt = null;
    String consentCell = cell(fields, columns.consentAtIndex());
    if (consentCell != null) {
      consentAt = instant(consentCell);
      if (consentAt == null) {
        errors.add(new RowError(row, "consent_at", "not an ISO-8601 date or timestamp"));
      }
    }
    if (!errors.isEmpty()) {
      return new Rejected(errors);
    }

    Locality locality = phone == null ? null : locality(phone);
    String zoneCell = cell(fields, columns.timezoneIndex());
    List<String> timezones;
    if (zoneCell != null && ZONE_IDS.contains(zoneCell)) {
      timezones = List.of(zoneCell);
    } else {
      timezones = locality != null ? locality.timezones() : tenantZones;
    }
    String state = UsStates.codeOf(cell(fields, columns.stateIndex()));
    if (state == null && locality != null) {
      state = locality.state();
    }

    return new Accepted(
        new NormalizedLead(
            row,
            phone == null ? null : phone.e164(),
            email,
            cell(fields, columns.firstNameIndex()),
            cell(fields, columns.lastNameIndex()),
            cell(fields, columns.companyIndex()),
            cell(fields, columns.addressIndex()),
            cell(fields, columns.cityIndex()),
            state,
            cell(fields, columns.zipIndex()),
            timezones,
            consentAt,
            cell(fields, columns.consentSourceIndex()),
            attributes(fields, columns)));
  }

  /** The trimmed cell, or null when the column is absent or the cell blank. */
  private static String cell(List<String> fields, int index) {
    if (index < 0) {
      return null;
    }
    String value = fields.get(index).strip();
    return value.isEmpty() ? null : value;
  }

  private static Map<String, String> attributes(List<String> fields, LeadColumns columns) {
    List<String> names = columns.attributeNames();
    Map<String, String> attributes = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      String value = fields.get(columns.attributeIndex(i));
      // Kept verbatim: a template renders what the customer wrote.
      if (!value.isBlank()) {
        attributes.put(names.get(i), value);
      }
    }
    return attributes;
  }

  private Instant instant(String text) {
    try {
      if (text.length() == 10) {
        return LocalDate.parse(text).atStartOfDay(tenantZone).toInstant();
      }
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** A phone cell that is not a valid number; the message is the reason shown to the user. */
  private static final class InvalidPhone extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidPhone(String reason) {
      super(reason, null, false, false);
    }
  }

  private ValidNumber validNumber(String text) throws InvalidPhone {
    PhoneNumber number = plainNanpNumber(text);
    if (number == null) {
      try {
        number = PHONES.parse(text, defaultRegion);
      } catch (NumberParseException e) {
        throw new InvalidPhone(parseFailure(e));
      }
    }
    String region = validRegion(number);
    if (region == null) {
      throw new InvalidPhone(invalidNumber(number));
    }
    String e164 =
        number.getCountryCode() == NANP_COUNTRY_CODE
            ? "+1" + number.getNationalNumber()
            : PHONES.format(number, PhoneNumberFormat.E164);
    return new ValidNumber(number, e164, region);
  }

  /**
   * Reads the way most US lead files write numbers ({@code (212) 555-0123}, {@code 212.555.0123},
   * {@code +1 212 555 0123}, {@code 12125550123}) without libphonenumber's general parser, which
   * costs several microseconds a row; anything else returns null and goes through the parser.
   */
  private PhoneNumber plainNanpNumber(String text) {
    int start = 0;
    boolean plus = text.charAt(0) == '+';
    if (plus) {
      start = 1;
    }
    long digits = 0;
    int count = 0;
    for (int i = start; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= '0' && c <= '9') {
        if (++count > 11) {
          return null;
        }
        digits = digits * 10 + (c - '0');
      } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
        return null;
      }
    }
    long national;
    if (count == 11 && digits / 10_000_000_000L == 1 && (plus || defaultRegionIsNanp)) {
      national = digits - 10_000_000_000L;
    } else if (count == 10 && !plus && defaultRegionIsNanp) {
      national = digits;
    } else {
      return null;
    }
    // An area code starting with 0 or 1 is left to the parser and its reasons.
    if (national < NANP_LOWEST) {
      return null;
    }
    return new PhoneNumber().setCountryCode(NANP_COUNTRY_CODE).setNationalNumber(national);
  }

  /** The region of a valid number, or null if it is not valid. */
  private String validRegion(PhoneNumber number) {
    if (number.getCountryCode() == NANP_COUNTRY_CODE
        && number.getNationalNumber() >= NANP_LOWEST
        && number.getNationalNumber() <= NANP_HIGHEST
        && !number.isItalianLeadingZero()) {
      // isValidNumber's own algorithm with its metadata looked up once.
      return NanpNumbers.validRegion(number.getNationalNumber());
    }
    // This is what isValidNumber does, keeping the region it finds.
    String region = PHONES.getRegionCodeForNumber(number);
    return region != null && PHONES.isValidNumberForRegion(number, region) ? region : null;
  }

  private static String parseFailure(NumberParseException e) {
    switch (e.getErrorType()) {
      case INVALID_COUNTRY_CODE:
        return "not a known country code";
      case TOO_SHORT_NSN:
      case TOO_SHORT_AFTER_IDD:
        return "too short to be a phone number";
      case TOO_LONG:
        return "too long to be a phone number";
      case NOT_A_NUMBER:
      default:
        return "not a phone number";
    }
  }

  private String invalidNumber(PhoneNumber number) {
    String where =
        number.getCountryCode() == PHONES.getCountryCodeForRegion(defaultRegion)
            ? "region " + defaultRegion
            : "country code +" + number.getCountryCode();
    ValidationResult possible = PHONES.isPossibleNumberWithReason(number);
    String detail;
    switch (possible) {
      case TOO_SHORT:
        detail = " (too short)";
        break;
      case TOO_LONG:
        detail = " (too long)";
        break;
      case INVALID_LENGTH:
        detail = " (wrong length)";
        break;
      case INVALID_COUNTRY_CODE:
        return "not a known country code";
      default:
        detail = "";
    }
    return "not a valid number for " + where + detail;
  }

  private Locality locality(ValidNumber phone) {
    PhoneNumber number = phone.number();
    String nationalNumber =
        number.getCountryCode() == NANP_COUNTRY_CODE
            ? Long.toString(number.getNationalNumber())
            : PHONES.getNationalSignificantNumber(number);
    int length = Math.min(LOCALITY_DIGITS, nationalNumber.length());
    // Country code, prefix length and prefix digits: distinct prefixes never share a key.
    long key =
        ((long) number.getCountryCode() * 10 + length) * 1_000_000L
            + Long.parseLong(nationalNumber, 0, length, 10);
    Locality cached = localities.get(key);
    if (cached != null) {
      return cached;
    }
    Locality locality = new Locality(zonesOf(number), stateOf(number, phone.region()));
    if (localities.size() < MAX_CACHED_LOCALITIES) {
      localities.putIfAbsent(key, locality);
    }
    return locality;
  }

  private List<String> zonesOf(PhoneNumber number) {
    List<String> zones = new ArrayList<>(zoneMapper.getTimeZonesForNumber(number));
    zones.remove(UNKNOWN_ZONE);
    if (zones.isEmpty()) {
      return tenantZones;
    }
    zones.sort(null);
    return List.copyOf(zones);
  }

  private String stateOf(PhoneNumber number, String region) {
    if (US_TERRITORY_REGIONS.contains(region)) {
      return region;
    }
    if (!"US".equals(region)) {
      return null;
    }
    return UsStates.codeOfDescription(
        geocoder.getDescriptionForValidNumber(number, Locale.ENGLISH));
  }
}
