package io.outreach.engine.conversation;

import io.outreach.engine.CborSerializable;

/**
 * A tenant's keyword answers, from its program name and help contact (carriers require HELP to name
 * the program, a contact, that message and data rates may apply, and how to stop).
 */
public record ReplyTexts(String programName, String helpContact) implements CborSerializable {

  public String optOutConfirmation() {
    return programName
        + ": You are unsubscribed and will receive no more messages. Reply START to resubscribe.";
  }

  public String optInConfirmation() {
    return programName
        + ": You are resubscribed. Msg & data rates may apply. Reply HELP for help, STOP to opt out.";
  }

  public String help() {
    String contact =
        helpContact == null || helpContact.isBlank() ? "" : " Help: " + helpContact + ".";
    return programName + ":" + contact + " Msg & data rates may apply. Reply STOP to opt out.";
  }

  /** The keyword answer of {@code kind}; an agent's answer is its own text, not a keyword's. */
  public String text(Reply.Kind kind) {
    return switch (kind) {
      case OPT_OUT_CONFIRMATION -> optOutConfirmation();
      case OPT_IN_CONFIRMATION -> optInConfirmation();
      case HELP -> help();
      case AGENT_ANSWER -> throw new IllegalArgumentException("an agent's answer has its own text");
    };
  }
}
