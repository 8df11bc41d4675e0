package io.outreach.engine.provider;

import java.util.concurrent.CompletionStage;

/**
 * The port through which the engine sends one SMS to a provider (Twilio, SignalHouse or their
 * sandbox twins). A provider's refusal is a {@link SendResult.Rejected} value; only a failure to
 * get any answer (connection refused, timeout) fails the stage, so callers can tell "the provider
 * said no" from "we do not know whether it was sent".
 */
public interface SmsProvider {
  /**
   * Sends {@code request}; {@code answered} runs the moment the provider's answer arrives (before
   * it is read), or when the call fails without one: the instant by which the provider surely had
   * the call, which is what the dispatch pacer counts from.
   */
  CompletionStage<SendResult> send(SmsRequest request, Runnable answered);

  default CompletionStage<SendResult> send(SmsRequest request) {
    return send(request, () -> {});
  }
}
