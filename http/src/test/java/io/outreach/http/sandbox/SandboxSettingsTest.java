package io.outreach.http.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The accounts the twins know, and the limits, as the standalone command's options build them. */
class SandboxSettingsTest {
  private static final String SID = "AC" + "ab".repeat(16);

  @Test
  void addedAccountsJoinTheTestOnes() {
    SandboxSettings s =
        SandboxSettings.DEFAULTS
            .withTwilioAccount(SID, "its-auth-token")
            .withSignalHouseKey("its-api-key", "its-webhook-secret")
            .withLogLimit(7);
    assertThat(s.twilioAccounts())
        .containsEntry(SandboxSettings.TWILIO_TEST_SID, SandboxSettings.TWILIO_TEST_TOKEN)
        .containsEntry(SID, "its-auth-token");
    assertThat(s.signalHouseKeys())
        .containsEntry(
            SandboxSettings.SIGNALHOUSE_TEST_KEY, SandboxSettings.SIGNALHOUSE_TEST_SECRET)
        .containsEntry("its-api-key", "its-webhook-secret");
    assertThat(s.logLimit()).isEqualTo(7);
    assertThat(SandboxSettings.DEFAULTS.logLimit()).isEqualTo(100_000);
  }

  @Test
  void aMalformedAccountOrLimitIsRefusedWithoutEchoingASecret() {
    assertThatThrownBy(() -> SandboxSettings.DEFAULTS.withTwilioAccount("AC123", "token"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("AC followed by 32 hex digits");
    assertThatThrownBy(
            () -> SandboxSettings.DEFAULTS.withTwilioAccount(SID, "a secret with spaces"))
        .isInstanceOf(IllegalArgumentException.class)
        .message()
        .doesNotContain("a secret with spaces");
    assertThatThrownBy(() -> SandboxSettings.DEFAULTS.withSignalHouseKey("key", " "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SandboxSettings.DEFAULTS.withLogLimit(0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
