package io.outreach.engine.message;

import java.util.Objects;

/**
 * How many SMS segments (billed messages) a text takes: a long text is sent as a concatenated SMS
 * whose parts each give up some room to the header that joins them again on the phone.
 *
 * <p>GSM-7 when every character is in the GSM 03.38 default alphabet or its extension table
 * (extension characters take an escape, so two units each): up to 160 units in one segment, else
 * 153 per segment. Any other character, one emoji or curly apostrophe is enough, makes the whole
 * text UCS-2, counted in UTF-16 code units: up to 70 in one segment, else 67 per segment.
 *
 * <p>Two simplifications, both as carriers' published calculators count: national language shift
 * tables (Turkish, Spanish, Portuguese) are not used, as US carriers do not; and the count is
 * {@code ceil(units / per-segment)}, although a sender that will not split an escape pair or a
 * surrogate pair across two segments can, rarely, need one more.
 *
 * @param encoding how the text is sent
 * @param units GSM-7 septets or UTF-16 code units
 * @param segments messages billed; an empty text is one segment of 0 units, as a carrier would bill
 *     it (whether an empty text may be sent at all is for the caller to decide)
 */
public record Segments(Encoding encoding, int units, int segments) {

  /** The character set a text is sent in. */
  public enum Encoding {
    GSM_7,
    UCS_2
  }

  /** The GSM 03.38 default alphabet, in table order, without the escape at 0x1B. */
  private static final String GSM_7_BASIC =
      "@£$¥èéùìòÇ\nØø\rÅå"
          + "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
          + " !\"#¤%&'()*+,-./"
          + "0123456789:;<=>?"
          + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
          + "¿abcdefghijklmnopqrstuvwxyzäöñüà";

  /** The extension table, reached by the escape: each character costs two septets. */
  private static final String GSM_7_EXTENSION = "\f^{}\\[~]|€";

  private static final int GSM_7_SINGLE = 160;
  private static final int GSM_7_PART = 153;
  private static final int UCS_2_SINGLE = 70;
  private static final int UCS_2_PART = 67;

  public Segments {
    Objects.requireNonNull(encoding, "encoding");
  }

  /** Counts the segments of a message body. */
  public static Segments count(String body) {
    int septets = 0;
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (GSM_7_BASIC.indexOf(c) >= 0) {
        septets += 1;
      } else if (GSM_7_EXTENSION.indexOf(c) >= 0) {
        septets += 2;
      } else {
        int units = body.length();
        return new Segments(Encoding.UCS_2, units, segments(units, UCS_2_SINGLE, UCS_2_PART));
      }
    }
    return new Segments(Encoding.GSM_7, septets, segments(septets, GSM_7_SINGLE, GSM_7_PART));
  }

  private static int segments(int units, int single, int part) {
    return units <= single ? 1 : (units + part - 1) / part;
  }
}
