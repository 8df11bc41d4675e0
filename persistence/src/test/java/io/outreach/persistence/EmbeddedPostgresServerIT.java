package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The embedded server is durable and recovers at the first attempt from a crashed JVM. */
class EmbeddedPostgresServerIT {

  private Path dataDir;

  @BeforeEach
  void createDataDir() throws IOException {
    dataDir = Files.createTempDirectory("outreach-pg-test");
  }

  @AfterEach
  void deleteDataDir() {
    EmbeddedDatabaseExtension.deleteRecursively(dataDir);
  }

  @Test
  void commitsAreDurableAndALiveServersDirectoryIsLeftAlone() throws SQLException {
    try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(dataDir)) {
      assertThatThrownBy(() -> EmbeddedPostgresServer.start(dataDir))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("in use");
      try (Connection c = DriverManager.getConnection(server.superuserJdbcUrl("postgres"))) {
        assertThat(show(c, "fsync")).isEqualTo("on");
        assertThat(show(c, "synchronous_commit")).isEqualTo("on");
        assertThat(show(c, "server_version_num")).startsWith("17");
      }
    }
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void stopsAPostmasterLeftByAKilledJvmAndStartsFirstTime() throws Exception {
    Process crashed = startInChildJvm(dataDir);
    long stalePid;
    try {
      awaitReady(crashed);
    } finally {
      crashed.destroyForcibly(); // SIGKILL: no shutdown hook, the postmaster stays up
      crashed.waitFor();
    }
    stalePid = Long.parseLong(Files.readAllLines(dataDir.resolve("pg/postmaster.pid")).get(0));
    assertThat(ProcessHandle.of(stalePid).filter(ProcessHandle::isAlive)).isPresent();

    long started = System.nanoTime();
    try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(dataDir);
        Connection c = DriverManager.getConnection(server.superuserJdbcUrl("postgres"))) {
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      assertThat(show(c, "fsync")).isEqualTo("on");
      assertThat(ProcessHandle.of(stalePid).filter(ProcessHandle::isAlive)).isEmpty();
      // zonky gives up on a blocked start after 10 s, so a first-attempt start is well below.
      assertThat(took).isLessThan(Duration.ofSeconds(10));
    }
  }

  private static Process startInChildJvm(Path dataDir) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>();
    command.add(java);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(StalePostmasterMain.class.getName());
    command.add(dataDir.toString());
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  private static void awaitReady(Process child) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    List<String> seen = new ArrayList<>();
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      if (line.startsWith(StalePostmasterMain.READY)) {
        return;
      }
      seen.add(line);
    }
    throw new AssertionError(
        "child JVM exited before its server was ready:\n" + String.join("\n", seen));
  }

  private static String show(Connection c, String setting) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("show " + setting)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
