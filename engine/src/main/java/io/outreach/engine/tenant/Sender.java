package io.outreach.engine.tenant;

import io.outreach.engine.CborSerializable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A number the tenant sends from: its provider, the number (E.164), what kind of number it is, and
 * the messages per second its carrier allows ({@code mps}; defaults by kind: long code 1, toll-free
 * 3, short code 100).
 */
public record Sender(String provider, String from, String kind, Integer mps)
    implements CborSerializable {
  static final List<String> PROVIDERS = List.of("twilio", "signalhouse");
  static final Map<String, Integer> DEFAULT_MPS =
      Map.of("long_code", 1, "toll_free", 3, "short_code", 100);
  static final int MAX_MPS = 10_000;
  private static final Pattern E164 = Pattern.compile("\\+[1-9][0-9]{6,14}");

  /** The sandbox short code a tenant without senders uses in sandbox mode (API.md). */
  public static final Sender SANDBOX = new Sender("twilio", "+15550100001", "short_code", 100);

  /** The messages per second this sender may send. */
  public int messagesPerSecond() {
    return mps != null ? mps : DEFAULT_MPS.getOrDefault(kind, 1);
  }

  /** What is wrong with this sender (as {@code senders[i]}), or null. */
  String problem(int i) {
    String at = "senders[" + i + "]";
    if (provider == null || !PROVIDERS.contains(provider.toLowerCase(Locale.ROOT))) {
      return at + ".provider must be one of " + PROVIDERS;
    }
    if (from == null || !E164.matcher(from).matches()) {
      return at + ".from must be an E.164 number such as +15550100001";
    }
    if (kind == null || !DEFAULT_MPS.containsKey(kind)) {
      return at + ".kind must be one of long_code, toll_free, short_code";
    }
    if (mps != null && (mps < 1 || mps > MAX_MPS)) {
      return at + ".mps must be 1-" + MAX_MPS;
    }
    return null;
  }
}
