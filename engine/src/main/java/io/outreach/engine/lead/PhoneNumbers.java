package io.outreach.engine.lead;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import java.util.Optional;

/**
 * Phone numbers as the engine stores them: E.164, and only numbers libphonenumber considers valid
 * (not merely possible) for their region.
 */
public final class PhoneNumbers {
  private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

  private PhoneNumbers() {}

  /** The E.164 form of {@code raw} (region for numbers without a country code), if valid. */
  public static Optional<String> e164(String raw, String region) {
    if (raw == null || raw.isBlank()) {
      return Optional.empty();
    }
    try {
      PhoneNumber n = UTIL.parse(raw.trim(), region);
      return UTIL.isValidNumber(n)
          ? Optional.of(UTIL.format(n, PhoneNumberUtil.PhoneNumberFormat.E164))
          : Optional.empty();
    } catch (NumberParseException e) {
      return Optional.empty();
    }
  }
}
