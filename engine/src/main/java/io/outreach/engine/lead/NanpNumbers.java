package io.outreach.engine.lead;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneMetadata;
import com.google.i18n.phonenumbers.metadata.DefaultMetadataDependenciesProvider;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which region of the North American Numbering Plan (country code 1: the US, Canada and 23 more) a
 * number belongs to, and whether it is valid there: the very algorithm of {@code
 * PhoneNumberUtil.isValidNumber}, whose region is the first of libphonenumber's list for the
 * country code that either claims the number's leading digits or finds it a valid number of some
 * type, with every region's patterns compiled once. libphonenumber looks each region's metadata up
 * by name on every call, which cost about as much as its patterns.
 *
 * <p>The region cannot be told from the area code alone: {@code +1 800 140 0000} is a toll-free
 * number of the Dominican Republic while {@code +1 800 234 5678} is one of the US. {@code
 * NanpNumbersTest} proves the answers equal libphonenumber's. Thread-safe.
 */
final class NanpNumbers {
  static final int COUNTRY_CODE = 1;

  private record Region(String code, Pattern leadingDigits, RegionNumberRules rules) {}

  private static final List<Region> REGIONS =
      PhoneNumberUtil.getInstance().getRegionCodesForCountryCode(COUNTRY_CODE).stream()
          .map(NanpNumbers::region)
          .toList();

  private NanpNumbers() {}

  private static Region region(String code) {
    PhoneMetadata metadata =
        DefaultMetadataDependenciesProvider.getInstance()
            .getPhoneNumberMetadataSource()
            .getMetadataForRegion(code);
    Pattern leading =
        metadata.hasLeadingDigits() ? Pattern.compile(metadata.getLeadingDigits()) : null;
    return new Region(code, leading, RegionNumberRules.of(code));
  }

  /**
   * The region of {@code +1 nationalNumber} if the number is valid, else null.
   *
   * @param nationalNumber the national significant number (for NANP, the ten digits)
   */
  static String validRegion(long nationalNumber) {
    String national = Long.toString(nationalNumber);
    for (Region region : REGIONS) {
      if (region.leadingDigits() != null) {
        if (region.leadingDigits().matcher(national).lookingAt()) {
          return region.rules().isValid(COUNTRY_CODE, national) ? region.code() : null;
        }
      } else if (region.rules().isValid(COUNTRY_CODE, national)) {
        return region.code();
      }
    }
    return null;
  }
}
