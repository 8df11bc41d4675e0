package io.outreach.persistence;

import io.outreach.engine.conversation.InboundEffect;
import io.outreach.engine.message.MessageStatus;
import io.outreach.engine.message.OptOutKeywords;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores provider webhooks before the engine answers them, in group commits: deliveries that arrive
 * while a transaction is being written wait for the next one, so a burst of receipts costs one
 * fsync per batch instead of one each. A delivery the provider repeats (same dedup key) changes
 * nothing. In the same transaction each new delivery is written to the audit trail and a status
 * receipt moves its message forward ({@link MessageRows}) and counts the transition in {@code
 * campaign_stats}, so the counts are exact (a status receipt is stored processed; an inbound
 * message is stored received, for the tenant's inbox).
 *
 * <p>Each tenant's deliveries go through one writer, in the order they arrived: a person's STOP and
 * START are applied, and numbered ({@code seq}) for the inbox, in that order; other tenants' go
 * through the other writers meanwhile.
 *
 * <p>The queues are bounded: when one is full, {@link #store} fails with {@link Overloaded} and the
 * route answers 503, which providers retry.
 */
public final class WebhookReceipts implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebhookReceipts.class);
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();
  static final int MAX_BATCH = 500;
  static final int MAX_QUEUED = 20_000;

  /**
   * One verified webhook delivery. {@code ref} and {@code messageStatus} only for status receipts,
   * {@code inbound} only for inbound messages.
   */
  public record Receipt(
      String tenantId,
      String provider,
      String kind,
      String dedupKey,
      String phone,
      String subject,
      Optional<MessageRef> ref,
      Optional<MessageStatus> messageStatus,
      Optional<Inbound> inbound,
      String payloadJson,
      String auditDetailJson,
      Optional<CallProgress> call) {

    /** A delivery that is not a call's progress. */
    public Receipt(
        String tenantId,
        String provider,
        String kind,
        String dedupKey,
        String phone,
        String subject,
        Optional<MessageRef> ref,
        Optional<MessageStatus> messageStatus,
        Optional<Inbound> inbound,
        String payloadJson,
        String auditDetailJson) {
      this(
          tenantId,
          provider,
          kind,
          dedupKey,
          phone,
          subject,
          ref,
          messageStatus,
          inbound,
          payloadJson,
          auditDetailJson,
          Optional.empty());
    }
  }

  /**
   * One status callback of a call: its id, status, {@code SequenceNumber}, and on its final status
   * how long it lasted ({@code CallDuration}), the started minutes billed ({@code Duration}) and
   * who answered ({@code AnsweredBy}, with machine detection); null where the callback has none.
   */
  public record CallProgress(
      String sid,
      String status,
      int sequence,
      Integer durationSeconds,
      Integer billedMinutes,
      String answeredBy) {}

  /** An inbound message: the person's number, the tenant's number, the text and its keyword. */
  public record Inbound(
      String from, String to, String body, Optional<OptOutKeywords.Keyword> keyword) {}

  /** How a delivery was stored: new or a repeat, and what a new inbound message did to consent. */
  public record Stored(boolean isNew, InboundEffect effect) {
    static final Stored REPEAT = new Stored(false, InboundEffect.NONE);
  }

  /**
   * The message a receipt is about, as our callback URL named it: {@code
   * campaignId:recipient:step}.
   */
  public record MessageRef(String campaignId, long recipient, int step) {
    /** Parses a ref; empty when it is not one the engine issued. */
    public static Optional<MessageRef> parse(String ref) {
      if (ref == null) {
        return Optional.empty();
      }
      String[] parts = ref.split(":");
      if (parts.length != 3 || !parts[0].matches("cmp_[a-z0-9]{8,40}")) {
        return Optional.empty();
      }
      try {
        return Optional.of(
            new MessageRef(parts[0], Long.parseLong(parts[1]), Integer.parseInt(parts[2])));
      } catch (NumberFormatException e) {
        return Optional.empty();
      }
    }

    @Override
    public String toString() {
      return campaignId + ":" + recipient + ":" + step;
    }
  }

  /** The inbox is full; the caller should answer 503 so the provider retries. */
  public static final class Overloaded extends RuntimeException {
    Overloaded() {
      super("the webhook inbox is full", null, false, false);
    }
  }

  private record Pending(Receipt receipt, CompletableFuture<Stored> stored) {}

  private final TenantJdbc tenantJdbc;
  private final Clock clock;
  private final List<BlockingQueue<Pending>> queues = new ArrayList<>();
  private final List<Thread> writers = new ArrayList<>();
  private volatile boolean open = true;

  /** Starts {@code writers} writer threads, each with its share of the tenants. */
  public WebhookReceipts(TenantJdbc tenantJdbc, Clock clock, int writers) {
    this.tenantJdbc = tenantJdbc;
    this.clock = clock;
    for (int i = 0; i < writers; i++) {
      BlockingQueue<Pending> queue = new LinkedBlockingQueue<>(MAX_QUEUED / writers);
      queues.add(queue);
      Thread t = new Thread(() -> writeLoop(queue), "webhook-receipts-" + i);
      t.setDaemon(true);
      t.start();
      this.writers.add(t);
    }
  }

  /** Stores {@code r}; completes with {@link Stored#isNew} false when it was stored before. */
  public CompletionStage<Stored> store(Receipt r) {
    CompletableFuture<Stored> stored = new CompletableFuture<>();
    BlockingQueue<Pending> queue =
        queues.get(Math.floorMod(r.tenantId().hashCode(), queues.size()));
    if (!open || !queue.offer(new Pending(r, stored))) {
      stored.completeExceptionally(new Overloaded());
    }
    return stored;
  }

  private void writeLoop(BlockingQueue<Pending> queue) {
    List<Pending> batch = new ArrayList<>(MAX_BATCH);
    while (open || !queue.isEmpty()) {
      try {
        Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, MAX_BATCH - 1);
        write(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        log.warn("could not store {} webhook deliveries: {}", batch.size(), e.toString());
        batch.forEach(p -> p.stored().completeExceptionally(e));
      } finally {
        batch.clear();
      }
    }
  }

  private void write(List<Pending> batch) {
    Map<String, List<Pending>> byTenant = new LinkedHashMap<>();
    batch.forEach(
        p -> byTenant.computeIfAbsent(p.receipt().tenantId(), t -> new ArrayList<>()).add(p));
    Map<Pending, Stored> outcome = new java.util.IdentityHashMap<>();
    Instant now = clock.instant();
    tenantJdbc.inTenants(
        byTenant, (c, tenant, items) -> writeTenant(c, tenant, items, now, outcome));
    batch.forEach(p -> p.stored().complete(outcome.getOrDefault(p, Stored.REPEAT)));
  }

  private static void writeTenant(
      Connection c, String tenant, List<Pending> items, Instant now, Map<Pending, Stored> outcome)
      throws SQLException {
    // A key repeated within the batch is new once: the first delivery wins, like a later retry.
    Set<String> seen = new HashSet<>();
    List<Pending> distinct = new ArrayList<>();
    for (Pending p : items) {
      if (seen.add(key(p.receipt()))) {
        distinct.add(p);
      }
    }
    Set<String> inserted = new HashSet<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            // The receipts, and an audit row for each that is new, in one statement, in arrival
            // order (seq orders a person's messages for the inbox). An inbound message without a
            // keyword is stored with its effect (none); a keyword's is set once it is applied.
            "with t as (select * from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],"
                + "   ?::text[], ?::text[], ?::text[]) with ordinality as t(p, k, kind, payload, phone, ref, st, eff, subject, detail, n)),"
                + " ins as (insert into webhook_receipts (tenant_id, provider, dedup_key, kind, received_at, payload,"
                + "   phone, ref, message_status, status, effect)"
                + "   select ?, p, k, kind, ?, payload::jsonb, phone, ref, st,"
                + "   case when kind = 'inbound' then 'received' else 'processed' end, eff"
                + "   from t order by n"
                + "   on conflict do nothing returning provider, dedup_key),"
                + " audit as (insert into audit_log (tenant_id, at, actor, action, subject, detail)"
                + "   select ?, ?, t.p, 'receipt.' || t.kind, t.subject, t.detail::jsonb"
                + "   from t join ins on ins.provider = t.p and ins.dedup_key = t.k order by t.n)"
                + " select provider, dedup_key from ins")) {
      ps.setArray(1, texts(c, distinct, r -> r.provider()));
      ps.setArray(2, texts(c, distinct, r -> r.dedupKey()));
      ps.setArray(3, texts(c, distinct, r -> r.kind()));
      ps.setArray(4, texts(c, distinct, r -> r.payloadJson()));
      ps.setArray(5, texts(c, distinct, r -> r.phone()));
      ps.setArray(6, texts(c, distinct, r -> r.ref().map(MessageRef::toString).orElse(null)));
      ps.setArray(
          7, texts(c, distinct, r -> r.messageStatus().map(MessageStatus::code).orElse(null)));
      ps.setArray(
          8,
          texts(
              c,
              distinct,
              r ->
                  r.inbound()
                      .filter(i -> i.keyword().isEmpty())
                      .map(i -> InboundEffect.NONE.name())
                      .orElse(null)));
      ps.setArray(9, texts(c, distinct, r -> r.subject()));
      ps.setArray(10, texts(c, distinct, r -> r.auditDetailJson()));
      ps.setString(11, tenant);
      ps.setTimestamp(12, Timestamp.from(now));
      ps.setString(13, tenant);
      ps.setTimestamp(14, Timestamp.from(now));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          inserted.add(key(rs.getString(1), rs.getString(2)));
        }
      }
    }
    List<Pending> fresh = new ArrayList<>();
    for (Pending p : distinct) {
      if (inserted.contains(key(p.receipt()))) {
        outcome.put(p, new Stored(true, InboundEffect.NONE));
        fresh.add(p);
      }
    }
    if (fresh.isEmpty()) {
      return;
    }
    advanceMessages(c, tenant, fresh, now);
    CallRows.apply(c, tenant, fresh.stream().map(Pending::receipt).toList());
    List<Pending> inbound = fresh.stream().filter(p -> p.receipt().inbound().isPresent()).toList();
    if (!inbound.isEmpty()) {
      applyInbound(c, tenant, inbound, now, outcome);
    }
  }

  private static String key(Receipt r) {
    return key(r.provider(), r.dedupKey());
  }

  /** A delivery's identity: its provider and dedup key. */
  private static String key(String provider, String dedupKey) {
    return provider + "\u0000" + dedupKey;
  }

  /**
   * Applies what new inbound messages say to consent, in arrival order, under each person's lock:
   * an opt-out is stored here, before the webhook is answered, so no contact that starts after the
   * answer reaches the person. Stores each message's effect and marks the tenant's inbox as work to
   * process (also after a crash).
   */
  private static void applyInbound(
      Connection c, String tenant, List<Pending> inbound, Instant now, Map<Pending, Stored> outcome)
      throws SQLException {
    List<Pending> keywords =
        inbound.stream().filter(p -> p.receipt().inbound().get().keyword().isPresent()).toList();
    if (!keywords.isEmpty()) {
      PersonLocks.lock(c, tenant, keywords.stream().map(p -> p.receipt().phone()).toList());
      List<String> providers = new ArrayList<>();
      List<String> keys = new ArrayList<>();
      List<String> effects = new ArrayList<>();
      for (Pending p : keywords) {
        Receipt r = p.receipt();
        InboundEffect effect = apply(c, tenant, r, r.inbound().get().keyword().get(), now);
        outcome.put(p, new Stored(true, effect));
        providers.add(r.provider());
        keys.add(r.dedupKey());
        effects.add(effect.name());
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "update webhook_receipts w set effect = t.e from unnest(?::text[], ?::text[], ?::text[]) as t(p, k, e)"
                  + " where w.tenant_id = ? and w.provider = t.p and w.dedup_key = t.k")) {
        ps.setArray(1, c.createArrayOf("text", providers.toArray()));
        ps.setArray(2, c.createArrayOf("text", keys.toArray()));
        ps.setArray(3, c.createArrayOf("text", effects.toArray()));
        ps.setString(4, tenant);
        ps.executeUpdate();
      }
    }
    WorkMarkers.add(c, ConversationStore.INBOX, List.of(tenant));
  }

  private static InboundEffect apply(
      Connection c, String tenant, Receipt r, OptOutKeywords.Keyword keyword, Instant now) {
    try {
      switch (keyword) {
        case OPT_OUT -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "insert into opt_outs (tenant_id, phone, opted_out_at, source, detail) values (?, ?, ?, 'keyword', ?)"
                      + " on conflict do nothing")) {
            ps.setString(1, tenant);
            ps.setString(2, r.phone());
            ps.setTimestamp(3, Timestamp.from(now));
            ps.setString(4, r.provider() + ":" + r.dedupKey());
            if (ps.executeUpdate() == 0) {
              return InboundEffect.ALREADY_OPTED_OUT;
            }
          }
          AuditRepository.insert(
              c, tenant, now, r.provider(), "opt-out", r.phone(), consentDetail(r));
          return InboundEffect.OPTED_OUT;
        }
        case OPT_IN -> {
          try (PreparedStatement ps = c.prepareStatement("delete from opt_outs where phone = ?")) {
            ps.setString(1, r.phone());
            if (ps.executeUpdate() == 0) {
              // START or YES from someone who never opted out is an ordinary reply.
              return InboundEffect.NONE;
            }
          }
          AuditRepository.insert(
              c, tenant, now, r.provider(), "opt-in", r.phone(), consentDetail(r));
          return InboundEffect.OPTED_IN;
        }
        case HELP -> {
          AuditRepository.insert(
              c, tenant, now, r.provider(), "help-requested", r.phone(), consentDetail(r));
          return InboundEffect.HELP;
        }
        default -> {
          return InboundEffect.NONE;
        }
      }
    } catch (SQLException e) {
      throw new DataAccessException("could not apply " + keyword + " from an inbound message", e);
    }
  }

  private static String consentDetail(Receipt r) {
    return JSON.createObjectNode().put("via", r.provider()).put("receipt", r.dedupKey()).toString();
  }

  /**
   * Moves each status receipt's message forward, counting its transitions ({@link MessageRows}).
   */
  private static void advanceMessages(Connection c, String tenant, List<Pending> fresh, Instant now)
      throws SQLException {
    List<MessageRows.StatusReceipt> statuses = new ArrayList<>();
    for (Pending p : fresh) {
      Receipt r = p.receipt();
      if (r.ref().isPresent() && r.messageStatus().isPresent()) {
        statuses.add(new MessageRows.StatusReceipt(r.ref().get(), r.messageStatus().get()));
      }
    }
    MessageRows.applyReceipts(c, tenant, statuses, now);
  }

  private static Array texts(
      Connection c, List<Pending> items, java.util.function.Function<Receipt, String> f)
      throws SQLException {
    return c.createArrayOf("text", items.stream().map(p -> f.apply(p.receipt())).toArray());
  }

  /** Stops taking deliveries and lets the writers store what is queued. */
  @Override
  public void close() {
    open = false;
    for (Thread t : writers) {
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
