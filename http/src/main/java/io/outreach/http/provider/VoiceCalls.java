package io.outreach.http.provider;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How the engine places calls ({@code outreach.voice}): how long a call may ring ({@code Timeout})
 * and last ({@code TimeLimit}), Twilio's answering-machine detection ({@code MachineDetection}: off
 * when blank, else {@code Enable} or {@code DetectMessageEnd}), and the key that opts the callee
 * out.
 */
public record VoiceCalls(
    Duration ringTimeout, Duration maxCallLength, String machineDetection, String optOutDigit) {
  public static final VoiceCalls DEFAULTS =
      new VoiceCalls(Duration.ofSeconds(30), Duration.ofMinutes(10), "", "9");

  public VoiceCalls {
    if (!machineDetection.isEmpty()
        && !machineDetection.equals("Enable")
        && !machineDetection.equals("DetectMessageEnd")) {
      throw new IllegalArgumentException(
          "outreach.voice.machine-detection must be \"\", Enable or DetectMessageEnd");
    }
    if (!optOutDigit.matches("[0-9]")) {
      throw new IllegalArgumentException("outreach.voice.opt-out-digit must be one digit");
    }
  }

  /** The settings of {@code outreach.voice}. */
  public static VoiceCalls from(Config root) {
    Config v = root.getConfig("outreach.voice");
    return new VoiceCalls(
        v.getDuration("ring-timeout"),
        v.getDuration("max-call-length"),
        v.getString("machine-detection"),
        v.getString("opt-out-digit"));
  }

  /** What the callee hears after the message: how to stop all contact. */
  public String optOutPrompt() {
    return "To stop these calls and messages, press " + optOutDigit + " or say stop.";
  }
}
