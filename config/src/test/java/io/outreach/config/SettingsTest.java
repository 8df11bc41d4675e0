package io.outreach.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class SettingsTest {
  private static Settings with(String hocon) {
    return Settings.from(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.load()));
  }

  @Test
  void defaultsRunEmbedded() {
    Settings s = with("");
    assertThat(s.embeddedDatabase()).isTrue();
    assertThat(s.http().port()).isEqualTo(8080);
    assertThat(s.auth().jwtSecret()).isEmpty();
  }

  @Test
  void badValuesFailFastNamingTheKey() {
    assertThatThrownBy(() -> with("outreach.http.port = 70000"))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("outreach.http.port");
    assertThatThrownBy(() -> with("outreach.http.port = eighty"))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("http.port");
    assertThatThrownBy(() -> with("outreach.auth.jwt-secret = short"))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("outreach.auth.jwt-secret");
    assertThatThrownBy(() -> with("outreach.db.url = \"jdbc:postgresql://db/outreach\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("outreach.db.user");
  }
}
