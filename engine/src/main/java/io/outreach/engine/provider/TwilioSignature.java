package io.outreach.engine.provider;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Twilio's request signature ({@code X-Twilio-Signature}): base64 of HMAC-SHA1 keyed with the
 * account's auth token over the full URL followed by every POST parameter's name and value,
 * parameters sorted by name. Used both to check inbound webhooks and, by the sandbox twin, to sign
 * the callbacks it posts.
 */
public final class TwilioSignature {
  private TwilioSignature() {}

  /** The signature Twilio would send for a form POST of {@code postParams} to {@code fullUrl}. */
  public static String sign(String authToken, String fullUrl, Map<String, String> postParams) {
    StringBuilder data = new StringBuilder(fullUrl);
    // Twilio sorts by name in plain code-point order (a TreeMap's natural String order).
    new TreeMap<>(postParams).forEach((name, value) -> data.append(name).append(value));
    return Base64.getEncoder().encodeToString(hmacSha1(authToken, data.toString()));
  }

  /**
   * Whether {@code headerValue} is the signature of this request. A missing header is a refusal;
   * the comparison takes the same time wherever the first difference lies.
   */
  public static boolean verify(
      String authToken, String fullUrl, Map<String, String> params, String headerValue) {
    if (headerValue == null || headerValue.isEmpty()) {
      return false;
    }
    byte[] expected = sign(authToken, fullUrl, params).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, headerValue.trim().getBytes(StandardCharsets.US_ASCII));
  }

  private static byte[] hmacSha1(String key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      // Every JRE ships HmacSHA1, and any byte string is a valid HMAC key.
      throw new IllegalStateException(e);
    }
  }
}
