package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The shaded jar as a real process on the embedded defaults: the token subcommand, a tenant that
 * survives a graceful stop and a SIGKILL (whose orphaned PostgreSQL the next start stops), and the
 * time from process start to {@code /health/ready} = 200.
 */
class EngineProcessIT {
  private JarProcess node;

  @AfterEach
  void cleanUp() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void tenantSurvivesStopAndKill() throws Exception {
    Path dataDir = Files.createTempDirectory("outreach-proc-");
    node = new JarProcess(dataDir, JarProcess.freePort());

    Process first = node.startEngine("first");
    String token = node.token("--tenant", "platform", "--roles", "platform");
    assertThat(token).matches("[\\w-]+\\.[\\w-]+\\.[\\w-]+");
    assertThat(Files.readString(dataDir.resolve("jwt-secret"))).isNotBlank();
    var created =
        node.json(
            "POST",
            "/v1/tenants",
            token,
            "{\"id\":\"acme\",\"name\":\"Acme\",\"timezone\":\"America/New_York\",\"monthlyBudgetCents\":100000}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    JarProcess.stopGracefully(first);

    node.env("OUTREACH_LOG_FORMAT", "json");
    Process second = node.startEngine("second");
    assertThat(node.send("GET", "/v1/tenants/acme", token, null, null).body())
        .contains("\"name\":\"Acme\"");
    assertJsonLogWithoutSecrets(Path.of("target", "engine-process-second.log"), token);
    node.env("OUTREACH_LOG_FORMAT", "plain");
    second.destroyForcibly().waitFor(30, TimeUnit.SECONDS);

    Process third = node.startEngine("after-sigkill");
    var after = node.send("GET", "/v1/tenants/acme", token, null, null);
    assertThat(after.statusCode()).as(after.body()).isEqualTo(200);
    assertThat(after.body()).contains("\"timezone\":\"America/New_York\"");
    JarProcess.stopGracefully(third);
  }

  /** With OUTREACH_LOG_FORMAT=json every log line is a JSON object, and no token leaks. */
  private static void assertJsonLogWithoutSecrets(Path log, String token) throws IOException {
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    List<String> lines = Files.readAllLines(log);
    assertThat(lines).isNotEmpty();
    for (String line : lines) {
      var node = mapper.readTree(line);
      assertThat(node.has("level") && node.has("message")).as(line).isTrue();
    }
    assertThat(lines).anyMatch(l -> l.contains("engine ready"));
    assertThat(String.join("\n", lines)).doesNotContain(token.substring(token.indexOf('.')));
  }
}
