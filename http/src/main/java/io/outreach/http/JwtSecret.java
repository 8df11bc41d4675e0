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
 * The token signing secret: {@code OUTREACH_JWT_SECRET} when set; otherwise a random secret
 * generated once and kept in {@code <data dir>/jwt-secret} (owner-readable only), so tokens minted
 * with the {@code token} subcommand keep working across restarts. Never in the source.
 */
public final class JwtSecret {
  private static final Logger log = LoggerFactory.getLogger(JwtSecret.class);
  static final String FILE = "jwt-secret";

  private JwtSecret() {}

  public static String resolve(Settings settings) {
    if (settings.auth().jwtSecret().isPresent()) {
      return settings.auth().jwtSecret().get();
    }
    Path file = settings.dataDir().resolve(FILE);
    try {
      if (Files.exists(file)) {
        return Files.readString(file, StandardCharsets.UTF_8).trim();
      }
      Files.createDirectories(settings.dataDir());
      byte[] random = new byte[32];
      new SecureRandom().nextBytes(random);
      String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
      try {
        Files.writeString(file, secret, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
      } catch (FileAlreadyExistsException raced) {
        return Files.readString(file, StandardCharsets.UTF_8).trim();
      }
      try {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException notPosix) {
        log.warn("cannot restrict permissions of {} on this file system", file);
      }
      log.info(
          "OUTREACH_JWT_SECRET is not set: generated a random token secret and kept it in {}",
          file.toAbsolutePath());
      return secret;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create the token secret " + file, e);
    }
  }
}
