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

  @Test
  void seedNodesAreHostPortPairsMadePekkoAddresses() {
    Settings s = with("outreach.cluster.seed-nodes = \"127.0.0.1:25520, 127.0.0.1:25521,\"");
    assertThat(s.cluster().seedNodes())
        .containsExactly("pekko://outreach@127.0.0.1:25520", "pekko://outreach@127.0.0.1:25521");
    assertThat(s.cluster().seedNodesConfig().getStringList("pekko.cluster.seed-nodes")).hasSize(2);
    assertThat(with("").cluster().seedNodes()).isEmpty();
    assertThat(with("").cluster().seedNodesConfig().isEmpty()).isTrue();
    assertThatThrownBy(() -> with("outreach.cluster.seed-nodes = \"127.0.0.1\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("outreach.cluster.seed-nodes");
    assertThatThrownBy(() -> with("outreach.cluster.seed-nodes = \"host:99999\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("OUTREACH_CLUSTER_SEED_NODES");
  }

  private static final String KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  private static final String PRODUCTION =
      "outreach.mode = production\n"
          + "outreach.public-url = \"https://engine.example\"\n"
          + "outreach.secrets.key = \""
          + KEY
          + "\"\n"
          + "outreach.auth.jwt-secret = \"a-production-secret-of-at-least-32-bytes\"\n";

  @Test
  void sandboxIsTheDefaultAndServesTheTwinsOnLoopback() {
    Settings s = with("");
    assertThat(s.mode()).isEqualTo(Settings.Mode.SANDBOX);
    assertThat(s.serveSandbox()).isTrue();
    assertThat(s.http().host()).isEqualTo("127.0.0.1");
    assertThat(s.secrets().key()).isEmpty();
  }

  @Test
  void productionWithEverythingStartsAndServesNoTwins() {
    Settings s = with(PRODUCTION);
    assertThat(s.mode()).isEqualTo(Settings.Mode.PRODUCTION);
    assertThat(s.serveSandbox()).isFalse();
    assertThat(s.sandboxProviders()).isFalse();
    assertThat(s.http().host()).isEqualTo("0.0.0.0");
    assertThat(s.secrets().key()).hasValueSatisfying(k -> assertThat(k).hasSize(32));
  }

  @Test
  void productionRefusesWithoutAPublicUrl() {
    assertThatThrownBy(() -> with(PRODUCTION + "outreach.public-url = \"\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("OUTREACH_PUBLIC_URL");
  }

  @Test
  void productionRefusesWithoutASecretsKey() {
    assertThatThrownBy(() -> with(PRODUCTION + "outreach.secrets.key = \"\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("OUTREACH_SECRETS_KEY");
  }

  @Test
  void productionRefusesWithoutAJwtSecret() {
    assertThatThrownBy(() -> with(PRODUCTION + "outreach.auth.jwt-secret = \"\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("OUTREACH_JWT_SECRET");
  }

  @Test
  void productionRefusesToServeTheSandbox() {
    assertThatThrownBy(() -> with(PRODUCTION + "outreach.sandbox.serve = on"))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("OUTREACH_SANDBOX_SERVE");
  }

  @Test
  void productionRefusesAStandaloneSandboxOrATwinAsAProvider() {
    assertThatThrownBy(() -> with(PRODUCTION + "outreach.sandbox.url = \"http://127.0.0.1:9090\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("OUTREACH_SANDBOX_URL");
    assertThatThrownBy(
            () ->
                with(
                    PRODUCTION
                        + "outreach.providers.twilio.base-url = \"http://127.0.0.1:9090/sandbox/twilio\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("sandbox twin");
  }

  @Test
  void productionNamesEveryMissingSettingAtOnce() {
    assertThatThrownBy(() -> with("outreach.mode = production"))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("OUTREACH_PUBLIC_URL")
        .hasMessageContaining("OUTREACH_SECRETS_KEY")
        .hasMessageContaining("OUTREACH_JWT_SECRET");
  }

  @Test
  void aSecretsKeyIsThirtyTwoBytesOfBase64() {
    assertThatThrownBy(() -> with("outreach.secrets.key = \"c2hvcnQ=\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("outreach.secrets.key")
        .hasMessageContaining("32");
    assertThatThrownBy(() -> with("outreach.secrets.key = \"not base64!\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("base64");
    assertThatThrownBy(() -> with("outreach.mode = staging"))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("OUTREACH_MODE");
  }
}
