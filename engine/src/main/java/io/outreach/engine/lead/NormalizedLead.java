package io.outreach.engine.lead;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A lead row that passed validation, in the form the engine stores: text trimmed (empty means
 * absent, so null), the phone in E.164, the email lower-cased, and the time zones the lead may be
 * in, which the calling-hours rules need.
 *
 * @param row the 1-based data row it came from
 * @param phone E.164 (e.g. {@code +12125550123}) or null
 * @param email lower-case, or null
 * @param state a 2-letter US state or territory code, or null
 * @param timezones IANA zone ids, sorted; several when the number's area spans zones; never empty
 * @param consentAt when the lead consented to be contacted, or null
 * @param attributes the other columns' non-blank values, as given, in column order
 */
public record NormalizedLead(
    long row,
    String phone,
    String email,
    String firstName,
    String lastName,
    String company,
    String address,
    String city,
    String state,
    String zip,
    List<String> timezones,
    Instant consentAt,
    String consentSource,
    Map<String, String> attributes) {

  public NormalizedLead {
    timezones = List.copyOf(timezones);
    attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
  }

  /**
   * What makes two leads of a tenant the same person: the phone when there is one (it is what
   * campaigns reach), otherwise the email.
   */
  public String dedupKey() {
    return phone != null ? "p:" + phone : "e:" + email;
  }
}
