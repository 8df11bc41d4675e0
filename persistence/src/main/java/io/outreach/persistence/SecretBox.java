package io.outreach.persistence;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals secrets at rest with AES-256-GCM: {@code version | key id | nonce | ciphertext+tag}. The
 * key id (the first 8 bytes of the key's SHA-256) names which key sealed a value, so values sealed
 * under an earlier key are still opened during a rotation; a context (the row a value belongs to)
 * is authenticated with it, so a sealed value copied to another row does not open.
 */
public final class SecretBox {
  private static final byte VERSION = 1;
  private static final int ID_BYTES = 8;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] currentId;
  private final SecretKey current;
  private final Map<String, SecretKey> byId = new LinkedHashMap<>();

  /**
   * @param key the current key (32 bytes), which seals
   * @param previous earlier keys, which still open what they sealed
   */
  public SecretBox(byte[] key, List<byte[]> previous) {
    this.currentId = id(key);
    this.current = aes(key);
    byId.put(HexFormat.of().formatHex(currentId), current);
    for (byte[] p : previous) {
      byId.putIfAbsent(HexFormat.of().formatHex(id(p)), aes(p));
    }
  }

  /** Seals {@code plaintext} under the current key, bound to {@code context}. */
  public byte[] seal(byte[] plaintext, String context) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, current, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(context.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = cipher.doFinal(plaintext);
      return ByteBuffer.allocate(1 + ID_BYTES + NONCE_BYTES + sealed.length)
          .put(VERSION)
          .put(currentId)
          .put(nonce)
          .put(sealed)
          .array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot seal a secret", e);
    }
  }

  /**
   * Opens a value sealed (by this key or an earlier one) for {@code context}.
   *
   * @throws IllegalStateException if it was sealed under an unknown key, for another context, or
   *     was altered
   */
  public byte[] open(byte[] sealed, String context) {
    if (sealed.length < 1 + ID_BYTES + NONCE_BYTES + TAG_BITS / 8 || sealed[0] != VERSION) {
      throw new IllegalStateException("not a sealed secret");
    }
    String id = HexFormat.of().formatHex(sealed, 1, 1 + ID_BYTES);
    SecretKey key = byId.get(id);
    if (key == null) {
      throw new IllegalStateException(
          "a secret sealed under key " + id + ", which is neither the current nor a previous key");
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(
          Cipher.DECRYPT_MODE,
          key,
          new GCMParameterSpec(TAG_BITS, sealed, 1 + ID_BYTES, NONCE_BYTES));
      cipher.updateAAD(context.getBytes(StandardCharsets.UTF_8));
      int offset = 1 + ID_BYTES + NONCE_BYTES;
      return cipher.doFinal(sealed, offset, sealed.length - offset);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("a sealed secret does not open: altered, or not for here", e);
    }
  }

  /** Whether {@code sealed} was sealed under the current key (else a rotation re-seals it). */
  public boolean current(byte[] sealed) {
    return sealed.length > ID_BYTES
        && java.util.Arrays.equals(sealed, 1, 1 + ID_BYTES, currentId, 0, ID_BYTES);
  }

  private static byte[] id(byte[] key) {
    if (key.length != 32) {
      throw new IllegalArgumentException("an AES-256 key is 32 bytes, was " + key.length);
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key);
      return java.util.Arrays.copyOf(digest, ID_BYTES);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static SecretKey aes(byte[] key) {
    return new SecretKeySpec(key, "AES");
  }
}
