package io.outreach.engine.provider;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * SignalHouse's webhook signature ({@code X-SignalHouse-Signature}): lowercase hex of HMAC-SHA256
 * keyed with the webhook secret over {@code timestamp + "." + rawBody}, where the timestamp ({@code
 * X-SignalHouse-Timestamp}) is epoch milliseconds. Verification also refuses old timestamps so a
 * captured delivery cannot be replayed later.
 */
public final class SignalHouseSignature {
  /** The replay window API.md sets for SignalHouse webhooks. */
  public static final Duration MAX_AGE = Duration.ofMinutes(5);

  private SignalHouseSignature() {}

  /** The signature of {@code rawBody} sent at {@code timestamp} (epoch milliseconds). */
  public static String sign(String secret, String timestamp, String rawBody) {
    return HexFormat.of().formatHex(hmacSha256(secret, timestamp + "." + rawBody));
  }

  /**
   * Whether {@code header} signs this body and {@code timestamp} is a number of milliseconds no
   * further than {@code maxAge} from {@code now}, in either direction (a timestamp far in the
   * future would otherwise stay replayable for as long).
   */
  public static boolean verify(
      String secret,
      String timestamp,
      String rawBody,
      String header,
      Instant now,
      Duration maxAge) {
    if (timestamp == null || header == null || rawBody == null) {
      return false;
    }
    long millis;
    try {
      millis = Long.parseLong(timestamp.trim());
    } catch (NumberFormatException e) {
      return false;
    }
    Duration age = Duration.between(Instant.ofEpochMilli(millis), now).abs();
    if (age.compareTo(maxAge) > 0) {
      return false;
    }
    byte[] expected = sign(secret, timestamp, rawBody).getBytes(StandardCharsets.US_ASCII);
    byte[] given = header.trim().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, given);
  }

  private static byte[] hmacSha256(String key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      // Every JRE ships HmacSHA256; an empty secret is the only invalid key and is a bug.
      throw new IllegalStateException(e);
    }
  }
}
