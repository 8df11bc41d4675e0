package io.outreach.engine.lead;

import com.google.i18n.phonenumbers.Phonemetadata.PhoneMetadata;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneNumberDesc;
import com.google.i18n.phonenumbers.metadata.DefaultMetadataDependenciesProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What makes a national number valid in one region, by libphonenumber's own metadata and rules:
 * exactly the test {@code PhoneNumberUtil.isValidNumberForRegion} applies (the general pattern,
 * then any one number type — premium rate, toll free, shared cost, VoIP, personal, pager, UAN,
 * voicemail, fixed line, mobile — each with its possible lengths and its pattern), with the
 * region's metadata and compiled patterns looked up once. libphonenumber looks them up twice per
 * call by building a resource name and hashing it, which cost about as much as the patterns
 * themselves. {@code RegionNumberRulesTest} proves the two agree on every NANP region.
 *
 * <p>Immutable and thread-safe.
 */
final class RegionNumberRules {

  /** One number type: its possible lengths (none means any) and its pattern. */
  private record Desc(int[] lengths, Pattern pattern) {
    static Desc of(PhoneNumberDesc desc) {
      int[] lengths = desc.getPossibleLengthList().stream().mapToInt(Integer::intValue).toArray();
      String pattern = desc.getNationalNumberPattern();
      return new Desc(lengths, pattern.isEmpty() ? null : Pattern.compile(pattern));
    }

    boolean matches(String nationalNumber) {
      if (lengths.length > 0) {
        boolean possible = false;
        for (int length : lengths) {
          possible |= length == nationalNumber.length();
        }
        if (!possible) {
          return false;
        }
      }
      return pattern != null && pattern.matcher(nationalNumber).matches();
    }
  }

  private final int countryCode;
  private final Desc general;
  private final Desc[] types;

  private RegionNumberRules(int countryCode, Desc general, Desc[] types) {
    this.countryCode = countryCode;
    this.general = general;
    this.types = types;
  }

  /**
   * The rules of a region libphonenumber knows (not the non-geographic "001").
   *
   * @throws IllegalArgumentException if it has no metadata for {@code region}
   */
  static RegionNumberRules of(String region) {
    PhoneMetadata metadata =
        DefaultMetadataDependenciesProvider.getInstance()
            .getPhoneNumberMetadataSource()
            .getMetadataForRegion(region);
    if (metadata == null) {
      throw new IllegalArgumentException("no phone number metadata for region " + region);
    }
    List<PhoneNumberDesc> types =
        new ArrayList<>(
            List.of(
                metadata.getPremiumRate(),
                metadata.getTollFree(),
                metadata.getSharedCost(),
                metadata.getVoip(),
                metadata.getPersonalNumber(),
                metadata.getPager(),
                metadata.getUan(),
                metadata.getVoicemail(),
                metadata.getFixedLine()));
    // libphonenumber tries mobile only when its pattern differs from fixed line's.
    if (!metadata.getSameMobileAndFixedLinePattern()) {
      types.add(metadata.getMobile());
    }
    return new RegionNumberRules(
        metadata.getCountryCode(),
        Desc.of(metadata.getGeneralDesc()),
        types.stream().map(Desc::of).toArray(Desc[]::new));
  }

  /**
   * Whether a number of this region's country code with this national significant number (as {@code
   * PhoneNumberUtil.getNationalSignificantNumber} writes it) is valid for the region.
   */
  boolean isValid(int numberCountryCode, String nationalNumber) {
    if (numberCountryCode != countryCode || !general.matches(nationalNumber)) {
      return false;
    }
    for (Desc type : types) {
      if (type.matches(nationalNumber)) {
        return true;
      }
    }
    return false;
  }
}
