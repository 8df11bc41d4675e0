package io.outreach.persistence;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How to reach PostgreSQL.
 *
 * <p>An empty {@code url} means embedded mode: {@link Database} starts a local PostgreSQL with its
 * files under {@code dataDir} and creates its own roles, so {@code user}, {@code password}, {@code
 * ownerUser} and {@code ownerPassword} are ignored. With a {@code url} the app connects as {@code
 * user}; migrations run as {@code ownerUser} when given, else as {@code user}.
 *
 * @param url JDBC URL of an external PostgreSQL, or empty for embedded
 * @param user the runtime (application) role of an external database
 * @param password the runtime role's password
 * @param ownerUser the role that owns the schema and runs migrations, if different from {@code
 *     user}
 * @param ownerPassword the owner role's password
 * @param dataDir where embedded PostgreSQL keeps its files (unused with an external url)
 * @param poolSize size of the application connection pool
 */
public record DatabaseConfig(
    Optional<String> url,
    Optional<String> user,
    Optional<String> password,
    Optional<String> ownerUser,
    Optional<String> ownerPassword,
    Path dataDir,
    int poolSize) {

  public DatabaseConfig {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(ownerUser, "ownerUser");
    Objects.requireNonNull(ownerPassword, "ownerPassword");
    Objects.requireNonNull(dataDir, "dataDir");
    if (poolSize < 1) {
      throw new IllegalArgumentException("poolSize must be at least 1, was " + poolSize);
    }
    if (url.isPresent() && user.isEmpty()) {
      throw new IllegalArgumentException("an external database url needs a user");
    }
  }

  /** An embedded database keeping its files under {@code dataDir}. */
  public static DatabaseConfig embedded(Path dataDir, int poolSize) {
    return new DatabaseConfig(
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        dataDir,
        poolSize);
  }

  /** True when no url is configured and PostgreSQL runs in-process-managed under dataDir. */
  public boolean isEmbedded() {
    return url.isEmpty();
  }

  // The generated toString would print the passwords, and configs end up in logs.
  @Override
  public String toString() {
    return "DatabaseConfig[url="
        + url.orElse("<embedded>")
        + ", user="
        + user.orElse("")
        + ", password="
        + mask(password)
        + ", ownerUser="
        + ownerUser.orElse("")
        + ", ownerPassword="
        + mask(ownerPassword)
        + ", dataDir="
        + dataDir
        + ", poolSize="
        + poolSize
        + "]";
  }

  private static String mask(Optional<String> secret) {
    return secret.isPresent() ? "***" : "<none>";
  }
}
