package io.outreach.engine.campaign;

import io.outreach.engine.CborSerializable;
import java.util.List;
import java.util.Map;

/**
 * One recipient of a campaign's snapshot: its number within the campaign, its lead, its phone
 * (E.164, or null), the time zones and US state its legal hours are judged in, and the fields its
 * message template may use ({@code first_name}, ...).
 */
public record Recipient(
    long no,
    String leadId,
    String phone,
    List<String> timezones,
    String state,
    Map<String, String> fields)
    implements CborSerializable {

  public Recipient {
    timezones = timezones == null ? List.of() : List.copyOf(timezones);
  }
}
