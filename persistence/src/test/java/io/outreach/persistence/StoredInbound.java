package io.outreach.persistence;

import io.outreach.engine.conversation.InboundEffect;
import io.outreach.engine.message.OptOutKeywords;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Inbound SMS stored as the Twilio webhook stores them, to our one number {@link #TO}, for the
 * tests of what takes them from there (the inbox, Gianna). Each gets a fresh message SID.
 */
final class StoredInbound implements AutoCloseable {
  /** The number every message is sent to. */
  static final String TO = "+15550100001";

  private final WebhookReceipts receipts;
  private long sid;

  StoredInbound(EmbeddedDatabaseExtension db) {
    receipts = new WebhookReceipts(db.database().tenantJdbc(), Clock.systemUTC(), 2);
  }

  /** The receipts, for a test that stores its own. */
  WebhookReceipts receipts() {
    return receipts;
  }

  /**
   * Stores an SMS from {@code from} with the keyword effect the webhook reads in it; answers what
   * it did to consent.
   */
  InboundEffect store(String tenant, String from, String body) throws Exception {
    String key = "SM" + (++sid);
    return receipts
        .store(receipt(tenant, key, from, body))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS)
        .effect();
  }

  /**
   * The receipt the Twilio webhook stores for SMS {@code key} from {@code from}, with the keyword
   * effect it reads in {@code body}.
   */
  static WebhookReceipts.Receipt receipt(String tenant, String key, String from, String body) {
    Optional<OptOutKeywords.Keyword> keyword = InboundEffect.keyword(body, null);
    return new WebhookReceipts.Receipt(
        tenant,
        "twilio",
        "inbound",
        key,
        from,
        key,
        Optional.empty(),
        Optional.empty(),
        Optional.of(new WebhookReceipts.Inbound(from, TO, body, keyword)),
        "{\"From\":\"" + from + "\",\"To\":\"" + TO + "\",\"Body\":\"" + body + "\"}",
        "{}");
  }

  @Override
  public void close() {
    receipts.close();
  }
}
