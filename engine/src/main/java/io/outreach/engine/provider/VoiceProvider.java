package io.outreach.engine.provider;

import java.util.concurrent.CompletionStage;

/**
 * The port through which the engine places one outbound call (Twilio's Calls API or its sandbox
 * twin). Like {@link SmsProvider}: a refusal is a {@link SendResult.Rejected} value, and only a
 * failure to get any answer fails the stage. {@link SendResult.Accepted} names the call ({@code
 * CA…}); what became of it (rung, answered, how long, busy, no answer) arrives later at the status
 * callback.
 */
public interface VoiceProvider {
  /**
   * Places {@code request}; {@code answered} runs the moment the provider's answer arrives (or the
   * call fails without one), which is what the dispatch pacer counts from.
   */
  CompletionStage<SendResult> call(CallRequest request, Runnable answered);
}
