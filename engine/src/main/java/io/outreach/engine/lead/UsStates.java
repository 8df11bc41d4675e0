package io.outreach.engine.lead;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The 50 US states, the District of Columbia and the inhabited territories, by USPS code and by
 * name, so that a {@code state} cell or a geocoder description ("Miami, FL", "California",
 * "Washington State") becomes the 2-letter code that state-specific calling rules key on.
 */
final class UsStates {

  private static final Map<String, String> CODE_BY_NAME = new HashMap<>();
  private static final Set<String> CODES;

  static {
    String[][] states = {
      {"AL", "Alabama"},
      {"AK", "Alaska"},
      {"AZ", "Arizona"},
      {"AR", "Arkansas"},
      {"CA", "California"},
      {"CO", "Colorado"},
      {"CT", "Connecticut"},
      {"DE", "Delaware"},
      {"FL", "Florida"},
      {"GA", "Georgia"},
      {"HI", "Hawaii"},
      {"ID", "Idaho"},
      {"IL", "Illinois"},
      {"IN", "Indiana"},
      {"IA", "Iowa"},
      {"KS", "Kansas"},
      {"KY", "Kentucky"},
      {"LA", "Louisiana"},
      {"ME", "Maine"},
      {"MD", "Maryland"},
      {"MA", "Massachusetts"},
      {"MI", "Michigan"},
      {"MN", "Minnesota"},
      {"MS", "Mississippi"},
      {"MO", "Missouri"},
      {"MT", "Montana"},
      {"NE", "Nebraska"},
      {"NV", "Nevada"},
      {"NH", "New Hampshire"},
      {"NJ", "New Jersey"},
      {"NM", "New Mexico"},
      {"NY", "New York"},
      {"NC", "North Carolina"},
      {"ND", "North Dakota"},
      {"OH", "Ohio"},
      {"OK", "Oklahoma"},
      {"OR", "Oregon"},
      {"PA", "Pennsylvania"},
      {"RI", "Rhode Island"},
      {"SC", "South Carolina"},
      {"SD", "South Dakota"},
      {"TN", "Tennessee"},
      {"TX", "Texas"},
      {"UT", "Utah"},
      {"VT", "Vermont"},
      {"VA", "Virginia"},
      {"WA", "Washington"},
      {"WV", "West Virginia"},
      {"WI", "Wisconsin"},
      {"WY", "Wyoming"},
      {"DC", "District of Columbia"},
      {"PR", "Puerto Rico"},
      {"GU", "Guam"},
      {"VI", "U.S. Virgin Islands"},
      {"AS", "American Samoa"},
      {"MP", "Northern Mariana Islands"}
    };
    for (String[] state : states) {
      CODE_BY_NAME.put(key(state[1]), state[0]);
    }
    // The spellings libphonenumber's geocoder and people use besides the official names.
    CODE_BY_NAME.put(key("Washington State"), "WA");
    CODE_BY_NAME.put(key("Washington D.C."), "DC");
    CODE_BY_NAME.put(key("Washington DC"), "DC");
    CODE_BY_NAME.put(key("US Virgin Islands"), "VI");
    CODE_BY_NAME.put(key("Virgin Islands"), "VI");
    CODES = Set.copyOf(CODE_BY_NAME.values());
  }

  private UsStates() {}

  /** The code for a 2-letter code or a name in any case, or null if it is neither. */
  static String codeOf(String codeOrName) {
    if (codeOrName == null) {
      return null;
    }
    String text = codeOrName.strip();
    if (text.length() == 2) {
      String code = text.toUpperCase(Locale.ROOT);
      return CODES.contains(code) ? code : null;
    }
    return CODE_BY_NAME.get(key(text));
  }

  /**
   * The state in a geocoder description of a US number: "City, ST" or a state name; null for
   * anything else ("United States", a city alone).
   */
  static String codeOfDescription(String description) {
    int comma = description.lastIndexOf(", ");
    return codeOf(comma >= 0 ? description.substring(comma + 2) : description);
  }

  private static String key(String name) {
    return name.toLowerCase(Locale.ROOT);
  }
}
