package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The database goes away under a running engine (it stops accepting connections and every open one
 * is cut, as when PostgreSQL is stopped), then comes back: reads that need it answer 503
 * problem+json with Retry-After within seconds, readiness goes false, and both recover by
 * themselves.
 */
class DatabaseOutageIT {
  @Test
  void anUnreachableDatabaseAnswers503FastAndTheEngineRecoversByItself() throws Exception {
    try (TestEngine node = TestEngine.start(Files.createTempDirectory("outage-it"), Map.of())) {
      String op = node.tenant("outage");
      assertThat(node.get("/v1/leads", op).statusCode()).isEqualTo(200);
      String superuser = superuserUrl(node);
      try {
        allowConnections(superuser, false);
        long t0 = System.nanoTime();
        HttpResponse<String> down = node.get("/v1/leads", op);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(down.statusCode()).as(down.body()).isEqualTo(503);
        assertThat(down.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(down.headers().firstValue("Retry-After")).hasValue("5");
        assertThat(IntakeIT.body(down).get("detail").asText()).contains("database");
        assertThat(took).as("answered within 5 s").isLessThan(Duration.ofSeconds(5));
        System.out.println("DatabaseOutageIT: 503 answered in " + took.toMillis() + " ms");
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> node.get("/health/ready", null).statusCode() != 200);
      } finally {
        allowConnections(superuser, true);
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> node.get("/v1/leads", op).statusCode() == 200);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> node.get("/health/ready", null).statusCode() == 200);
    }
  }

  /** The embedded server's superuser, on its maintenance database (not the engine's). */
  private static String superuserUrl(TestEngine node) {
    return superuserUrl(node, "postgres");
  }

  /** The embedded server's superuser on {@code database} (it bypasses row-level security). */
  static String superuserUrl(TestEngine node, String database) {
    URI app = URI.create(node.engine.database().jdbcUrl().substring("jdbc:".length()));
    return "jdbc:postgresql://"
        + app.getHost()
        + ":"
        + app.getPort()
        + "/"
        + database
        + "?user=postgres";
  }

  /**
   * Lets the engine's database take connections or not; not: also cuts every open one, so the
   * engine's pools find it gone as after a stop.
   */
  private static void allowConnections(String superuserUrl, boolean allow) throws SQLException {
    try (Connection c = DriverManager.getConnection(superuserUrl);
        Statement st = c.createStatement()) {
      st.execute("alter database outreach with allow_connections " + allow);
      if (!allow) {
        st.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
                + " where datname = 'outreach' and pid <> pg_backend_pid()");
      }
    }
  }
}
