package io.outreach.http;

import io.outreach.config.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key that seals provider account secrets at rest: {@code OUTREACH_SECRETS_KEY} (required in
 * production mode); in sandbox mode without one, 32 random bytes generated once and kept in {@code
 * <data dir>/secrets-key} (owner-readable only), so accounts set in a local run keep opening across
 * restarts.
 */
final class SecretsKey {
  private static final Logger log = LoggerFactory.getLogger(SecretsKey.class);
  static final String FILE = "secrets-key";

  private SecretsKey() {}

  static byte[] resolve(Settings settings) {
    if (settings.secrets().key().isPresent()) {
      return settings.secrets().key().get();
    }
    if (settings.mode() == Settings.Mode.PRODUCTION) {
      throw new IllegalStateException("OUTREACH_SECRETS_KEY is required in production mode");
    }
    Path file = settings.dataDir().resolve(FILE);
    try {
      if (Files.exists(file)) {
        return Base64.getDecoder().decode(Files.readString(file, StandardCharsets.UTF_8).trim());
      }
      Files.createDirectories(settings.dataDir());
      byte[] key = new byte[32];
      new SecureRandom().nextBytes(key);
      try {
        Files.writeString(
            file,
            Base64.getEncoder().encodeToString(key),
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE_NEW);
      } catch (FileAlreadyExistsException raced) {
        return Base64.getDecoder().decode(Files.readString(file, StandardCharsets.UTF_8).trim());
      }
      try {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException notPosix) {
        log.warn("cannot restrict permissions of {} on this file system", file);
      }
      log.info(
          "OUTREACH_SECRETS_KEY is not set: generated a sandbox secrets key and kept it in {}",
          file.toAbsolutePath());
      return key;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create the secrets key " + file, e);
    }
  }
}
