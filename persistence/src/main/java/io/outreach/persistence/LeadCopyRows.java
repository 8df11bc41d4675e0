package io.outreach.persistence;

import io.outreach.engine.lead.NormalizedLead;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Rows of {@code import_rows} in COPY's binary format, written straight into a byte array: no
 * escaping here, and no parsing of text forms (escapes, uuid, array and timestamp literals) in
 * PostgreSQL, where that was about a tenth of the time per row. Each COPY statement also needs
 * {@link #HEADER} first and {@link #TRAILER} last.
 */
final class LeadCopyRows {
  /** The signature, flags and header extension length that open binary COPY data. */
  static final byte[] HEADER = {
    'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0
  };

  /** The tuple count -1 that ends binary COPY data. */
  static final byte[] TRAILER = {(byte) 0xFF, (byte) 0xFF};

  private static final int FIELDS = 15;
  private static final int TEXT_OID = 25;
  private static final int JSONB_VERSION = 1;
  // PostgreSQL counts timestamps in microseconds from 2000-01-01T00:00:00Z.
  private static final long POSTGRES_EPOCH_SECONDS = 946_684_800L;

  private byte[] bytes;
  private int length;

  LeadCopyRows(byte[] buffer) {
    bytes = buffer;
  }

  byte[] bytes() {
    return bytes;
  }

  int length() {
    return length;
  }

  /** One row in the column order of {@link LeadStaging#COLUMNS}. */
  void row(NormalizedLead lead, UUID leadId) {
    ensure(2);
    putShort(FIELDS);
    ensure(4 + 8 + 4 + 16);
    putInt(8);
    putLong(lead.row());
    putInt(16);
    putLong(leadId.getMostSignificantBits());
    putLong(leadId.getLeastSignificantBits());
    text(lead.phone());
    text(lead.email());
    text(lead.firstName());
    text(lead.lastName());
    text(lead.company());
    text(lead.address());
    text(lead.city());
    text(lead.state());
    text(lead.zip());
    textArray(lead.timezones());
    timestamp(lead.consentAt());
    text(lead.consentSource());
    jsonb(lead.attributes() == null ? Map.of() : lead.attributes());
  }

  private void text(String value) {
    ensure(4);
    if (value == null) {
      putInt(-1);
      return;
    }
    int lengthAt = length;
    length += 4;
    utf8(value);
    patchLength(lengthAt);
  }

  /** A one-dimensional text[] without nulls. */
  private void textArray(List<String> values) {
    ensure(4 + 20);
    int lengthAt = length;
    length += 4;
    putInt(1);
    putInt(0);
    putInt(TEXT_OID);
    putInt(values.size());
    putInt(1);
    for (String value : values) {
      text(value);
    }
    patchLength(lengthAt);
  }

  private void timestamp(java.time.Instant at) {
    ensure(12);
    if (at == null) {
      putInt(-1);
      return;
    }
    putInt(8);
    putLong(
        Math.addExact(
            Math.multiplyExact(at.getEpochSecond() - POSTGRES_EPOCH_SECONDS, 1_000_000L),
            at.getNano() / 1_000));
  }

  /** A JSON object of strings, keys in map order. */
  private void jsonb(Map<String, String> attributes) {
    ensure(5);
    int lengthAt = length;
    length += 4;
    bytes[length++] = JSONB_VERSION;
    ensure(1);
    bytes[length++] = '{';
    boolean first = true;
    for (Map.Entry<String, String> e : attributes.entrySet()) {
      ensure(1);
      if (!first) {
        bytes[length++] = ',';
      }
      first = false;
      jsonString(e.getKey());
      ensure(1);
      bytes[length++] = ':';
      jsonString(e.getValue());
    }
    ensure(1);
    bytes[length++] = '}';
    patchLength(lengthAt);
  }

  private void jsonString(String s) {
    ensure(1);
    bytes[length++] = '"';
    int plain = 0;
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch == '"' || ch == '\\' || ch < 0x20) {
        utf8(s, plain, i);
        ensure(6);
        bytes[length++] = '\\';
        if (ch < 0x20) {
          bytes[length++] = 'u';
          bytes[length++] = '0';
          bytes[length++] = '0';
          bytes[length++] = (byte) Character.forDigit(ch >> 4, 16);
          bytes[length++] = (byte) Character.forDigit(ch & 0xF, 16);
        } else {
          bytes[length++] = (byte) ch;
        }
        plain = i + 1;
      }
    }
    utf8(s, plain, s.length());
    ensure(1);
    bytes[length++] = '"';
  }

  private void utf8(String s) {
    utf8(s, 0, s.length());
  }

  /** UTF-8 of {@code s[from, to)}; a lone surrogate becomes '?', as the JDK's encoder does. */
  private void utf8(String s, int from, int to) {
    ensure((to - from) * 3);
    for (int i = from; i < to; i++) {
      char ch = s.charAt(i);
      if (ch < 0x80) {
        bytes[length++] = (byte) ch;
      } else if (ch < 0x800) {
        bytes[length++] = (byte) (0xC0 | (ch >> 6));
        bytes[length++] = (byte) (0x80 | (ch & 0x3F));
      } else if (Character.isHighSurrogate(ch)
          && i + 1 < to
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        int cp = Character.toCodePoint(ch, s.charAt(++i));
        bytes[length++] = (byte) (0xF0 | (cp >> 18));
        bytes[length++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        bytes[length++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        bytes[length++] = (byte) (0x80 | (cp & 0x3F));
      } else if (Character.isSurrogate(ch)) {
        bytes[length++] = '?';
      } else {
        bytes[length++] = (byte) (0xE0 | (ch >> 12));
        bytes[length++] = (byte) (0x80 | ((ch >> 6) & 0x3F));
        bytes[length++] = (byte) (0x80 | (ch & 0x3F));
      }
    }
  }

  /** Writes the bytes written since {@code lengthAt + 4} as the int32 at {@code lengthAt}. */
  private void patchLength(int lengthAt) {
    int n = length - lengthAt - 4;
    bytes[lengthAt] = (byte) (n >>> 24);
    bytes[lengthAt + 1] = (byte) (n >>> 16);
    bytes[lengthAt + 2] = (byte) (n >>> 8);
    bytes[lengthAt + 3] = (byte) n;
  }

  private void putShort(int v) {
    bytes[length++] = (byte) (v >>> 8);
    bytes[length++] = (byte) v;
  }

  private void putInt(int v) {
    bytes[length++] = (byte) (v >>> 24);
    bytes[length++] = (byte) (v >>> 16);
    bytes[length++] = (byte) (v >>> 8);
    bytes[length++] = (byte) v;
  }

  private void putLong(long v) {
    putInt((int) (v >>> 32));
    putInt((int) v);
  }

  private void ensure(int more) {
    if (length + more > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
    }
  }
}
