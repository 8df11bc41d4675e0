package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A node whose journal cannot be written refuses to start instead of failing entities later. */
class StartupIT {
  @Test
  void brokenJournalRefusesToStart() throws Exception {
    Map<String, Object> overrides =
        Map.of(
            "outreach.data-dir",
            Files.createTempDirectory("outreach-broken-").toString(),
            "outreach.http.port",
            0,
            "outreach.management.enabled",
            false,
            "outreach.auth.jwt-secret",
            TestEngine.SECRET,
            "outreach.startup.journal-check-timeout",
            "3s",
            "pekko.remote.artery.canonical.port",
            0,
            "jdbc-journal.tables.event_journal.tableName",
            "no_such_journal");
    assertThatThrownBy(
            () ->
                Engine.start(ConfigFactory.parseMap(overrides).withFallback(ConfigFactory.load())))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("event journal is not writable");
  }
}
