package io.outreach.persistence;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server run from zonky's embedded binaries, keeping its files under {@code
 * dataDir/pg} so that data survives restarts.
 *
 * <p>zonky's defaults trade durability for speed ({@code fsync=off}, {@code
 * synchronous_commit=off}); both are switched back on because the local run, the tests and the
 * benchmarks must see the cost of a real commit. When the JVM is run as root, zonky runs {@code
 * initdb}, {@code pg_ctl} and {@code postgres} inside {@code unshare -U}, because PostgreSQL
 * refuses to run as root.
 *
 * <p>The postmaster is a daemon started by {@code pg_ctl}: it outlives a JVM killed with SIGKILL,
 * and the next start on the same directory would then fail on {@code postmaster.pid}. {@link
 * #start} therefore stops such a stale postmaster first, so a crashed engine comes back on the
 * first attempt.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

  /** How long a stale postmaster gets to shut down on SIGTERM before it is killed. */
  private static final Duration STALE_STOP_GRACE = Duration.ofSeconds(10);

  /** zonky's lock file; held by the JVM that runs the server on this directory. */
  private static final String ZONKY_LOCK_FILE = "epg-lock";

  private final EmbeddedPostgres postgres;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  /**
   * Starts PostgreSQL on {@code dataDir/pg}, creating the cluster on first use and stopping a
   * postmaster left behind by a crashed JVM. The port is a free one picked at each start.
   */
  public static EmbeddedPostgresServer start(Path dataDir) {
    return start(dataDir, 0);
  }

  /**
   * Starts PostgreSQL on {@code dataDir/pg} as {@link #start(Path)} does, listening on {@code port}
   * (0: a free one), for other processes to connect to (the local cluster's shared database).
   */
  public static EmbeddedPostgresServer start(Path dataDir, int port) {
    Path pgDir = dataDir.toAbsolutePath().normalize().resolve("pg");
    try {
      Files.createDirectories(pgDir);
      ensureNotInUse(pgDir);
      stopStalePostmaster(pgDir);
      EmbeddedPostgres postgres =
          EmbeddedPostgres.builder()
              .setDataDirectory(pgDir)
              .setCleanDataDirectory(false)
              .setPort(port)
              // Served to a cluster (port given), every node brings its pools (about 40
              // connections each): PostgreSQL's default of 100 would not do for three.
              .setServerConfig("max_connections", port == 0 ? "100" : "300")
              .setServerConfig("fsync", "on")
              .setServerConfig("synchronous_commit", "on")
              // PostgreSQL's defaults (128 MB buffers, 1 GB of WAL between checkpoints) are
              // sized for tiny machines; bulk imports checkpoint constantly with them.
              .setServerConfig("shared_buffers", "256MB")
              .setServerConfig("max_wal_size", "4GB")
              // A lead import stages 65,536 rows at a time in a temporary table (about 13 MB);
              // with the default 8 MB of temporary buffers each chunk's pages are written out
              // and read back. A per-session maximum, allocated only when used. Other WAL and
              // checkpoint settings were measured and left at their defaults:
              // docs/decisions/043-server-settings-at-defaults.md,
              // "Intake throughput".
              .setServerConfig("temp_buffers", "32MB")
              // The engine stops PostgreSQL after its actors (Database.close in coordinated
              // shutdown); zonky's own JVM hook would stop it while the journal still writes.
              .setRegisterShutdownHook(false)
              .start();
      log.info("embedded PostgreSQL running on port {} with data in {}", postgres.getPort(), pgDir);
      return new EmbeddedPostgresServer(postgres);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start embedded PostgreSQL in " + pgDir, e);
    }
  }

  /** JDBC URL for the superuser {@code postgres} on {@code database} (trust auth, no password). */
  public String superuserJdbcUrl(String database) {
    return postgres.getJdbcUrl("postgres", database);
  }

  /** The TCP port on localhost the server listens on. */
  public int port() {
    return postgres.getPort();
  }

  @Override
  public void close() {
    try {
      postgres.close();
    } catch (IOException e) {
      throw new UncheckedIOException("could not stop embedded PostgreSQL", e);
    }
  }

  /**
   * Refuses to touch a directory whose server belongs to a live JVM (this one or another): its
   * postmaster is not stale, and stopping it would pull the database from under a running engine. A
   * crashed JVM's file lock is released by the operating system, so this only stops real conflicts.
   */
  private static void ensureNotInUse(Path pgDir) throws IOException {
    Path lockFile = pgDir.resolve(ZONKY_LOCK_FILE);
    if (!Files.exists(lockFile)) {
      // Never started here; creating the file now would make initdb refuse a non-empty directory.
      return;
    }
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new IllegalStateException(
            "embedded PostgreSQL data directory " + pgDir + " is in use by a running process");
      }
      lock.release();
    }
  }

  /**
   * Stops the postmaster named in {@code postmaster.pid} if it is still alive, then removes the pid
   * file. SIGTERM first (a clean shutdown, no recovery needed at the next start), SIGKILL after the
   * grace period; the postmaster's children are waited for too, because starting a new server while
   * old backends still use the directory would corrupt it.
   */
  private static void stopStalePostmaster(Path pgDir) throws IOException {
    Path pidFile = pgDir.resolve("postmaster.pid");
    Optional<Long> pid = readPid(pidFile);
    if (pid.isEmpty()) {
      return;
    }
    Optional<ProcessHandle> process =
        pid.get() > 0
            ? ProcessHandle.of(pid.get()).filter(ProcessHandle::isAlive)
            : Optional.empty();
    if (process.isPresent() && isPostmasterFor(process.get(), pgDir)) {
      ProcessHandle postmaster = process.get();
      List<ProcessHandle> children = postmaster.descendants().toList();
      log.warn(
          "stopping stale PostgreSQL postmaster (pid {}) left running on {} by a previous run",
          postmaster.pid(),
          pgDir);
      postmaster.destroy();
      if (!awaitExit(postmaster, STALE_STOP_GRACE)) {
        log.warn(
            "stale postmaster {} ignored SIGTERM for {}; killing it", pid.get(), STALE_STOP_GRACE);
        postmaster.destroyForcibly();
        awaitExit(postmaster, STALE_STOP_GRACE);
      }
      for (ProcessHandle child : children) {
        if (!awaitExit(child, STALE_STOP_GRACE)) {
          child.destroyForcibly();
          awaitExit(child, STALE_STOP_GRACE);
        }
      }
      if (postmaster.isAlive()) {
        throw new IllegalStateException(
            "stale PostgreSQL postmaster " + pid.get() + " on " + pgDir + " could not be stopped");
      }
    } else {
      log.info("removing stale {} (pid {} is not a running postmaster)", pidFile, pid.get());
    }
    // A clean shutdown removes the file itself; after SIGKILL, or for a dead pid, it is left.
    Files.deleteIfExists(pidFile);
  }

  private static Optional<Long> readPid(Path pidFile) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    if (lines.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Long.parseLong(lines.get(0).trim()));
    } catch (NumberFormatException e) {
      // A pid file cut short by a crash names nothing we could stop.
      return Optional.of(-1L);
    }
  }

  /**
   * True if the process runs the {@code postgres} binary and, where its command line is readable,
   * serves this data directory: after a reboot the pid may belong to anything, even another
   * PostgreSQL, and that one must be left alone.
   */
  private static boolean isPostmasterFor(ProcessHandle process, Path pgDir) {
    ProcessHandle.Info info = process.info();
    boolean isPostgres =
        info.command()
            .map(c -> Path.of(c).getFileName().toString().equals("postgres"))
            .orElse(false);
    if (!isPostgres) {
      return false;
    }
    return info.arguments().map(args -> List.of(args).contains(pgDir.toString())).orElse(true);
  }

  private static boolean awaitExit(ProcessHandle process, Duration timeout) {
    try {
      process.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return !process.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !process.isAlive();
    }
  }
}
