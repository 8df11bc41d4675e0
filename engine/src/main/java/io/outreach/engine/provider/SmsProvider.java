package io.outreach.engine.provider;

import java.util.concurrent.CompletionStage;

/**
 * The port through which the engine sends one SMS to a provider (Twilio, SignalHouse or their
 * sandbox twins). A provider's refusal is a {@link SendResult.Rejected} value; only a failure to
 * get any answer (connection refused, timeout) fails the stage, so callers can tell "the
 * provider said no" from "we do not know whether it was sent".
 */
public interface SmsProvider {
  CompletionStage<SendResult> send(SmsRequest request);
}
