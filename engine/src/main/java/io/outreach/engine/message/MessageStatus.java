package io.outreach.engine.message;

import java.util.Locale;
import java.util.Optional;

/**
 * Where one message of a campaign stands. Statuses only move forward: a write with a lower or equal
 * {@link #rank()} than the stored one changes nothing, so receipts that arrive late, twice or out
 * of order (delivered before sent) cannot move a message back, and the first terminal status (rank
 * 3) sticks.
 */
public enum MessageStatus {
  /** The intent is journaled; no provider answer yet. */
  PENDING(0),
  /** Waiting for the recipient's legal hours. */
  DEFERRED(0),
  /** A follow-up step that is not due yet. */
  SCHEDULED(0),
  /** The provider accepted it. */
  QUEUED(1),
  /** The provider handed it to the carrier. */
  SENT(2),
  /** The carrier delivered it. */
  DELIVERED(3),
  /** The carrier could not deliver it. */
  UNDELIVERED(3),
  /** The provider refused it (after the retries), or reported it failed. */
  FAILED(3),
  /** The ComplianceGate or the template stopped it; the reason names the rule. */
  BLOCKED(3),
  /** A follow-up that was not sent because the recipient replied. */
  CANCELLED(3);

  private final int rank;

  MessageStatus(int rank) {
    this.rank = rank;
  }

  public int rank() {
    return rank;
  }

  /** The API and database name, e.g. {@code delivered}. */
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The status a provider's callback reports, from Twilio's and SignalHouse's status words ({@code
   * accepted, scheduled, queued, sending, sent, delivered, read, undelivered, failed, canceled});
   * empty for words that are not about an outbound message's delivery.
   */
  public static Optional<MessageStatus> fromProvider(String word) {
    return switch (word == null ? "" : word.trim().toLowerCase(Locale.ROOT)) {
      case "accepted", "scheduled", "queued", "sending" -> Optional.of(QUEUED);
      case "sent" -> Optional.of(SENT);
      case "delivered", "read" -> Optional.of(DELIVERED);
      case "undelivered" -> Optional.of(UNDELIVERED);
      case "failed", "canceled" -> Optional.of(FAILED);
      default -> Optional.empty();
    };
  }
}
