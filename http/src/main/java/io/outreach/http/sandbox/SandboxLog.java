package io.outreach.http.sandbox;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The twins' memory: every message request and scripted reply in arrival order, and the idempotency
 * keys seen per provider. Both are bounded (oldest dropped first) because the standalone sandbox
 * runs through whole load tests; one lock is plenty for a test twin.
 */
final class SandboxLog {
  static final int DEFAULT_CAPACITY = 1_000_000;

  private final int capacity;
  private final Clock clock;
  private final ArrayDeque<SandboxLogEntry> entries = new ArrayDeque<>();
  private final Map<String, String> messageIdByKey;
  private long lastId;

  SandboxLog(int capacity, Clock clock) {
    this.capacity = capacity;
    this.clock = clock;
    this.messageIdByKey =
        new LinkedHashMap<>() {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > SandboxLog.this.capacity;
          }
        };
  }

  /**
   * Logs an outbound request; a repeated (provider, idempotency key) gets the first message id and
   * is marked duplicate, otherwise {@code newMessageId} names a new message.
   */
  synchronized SandboxLogEntry record(
      String provider,
      String tenant,
      String to,
      String from,
      String body,
      String idempotencyKey,
      Supplier<String> newMessageId) {
    String earlier =
        idempotencyKey == null ? null : messageIdByKey.get(provider + "\n" + idempotencyKey);
    String messageId = earlier != null ? earlier : newMessageId.get();
    if (earlier == null && idempotencyKey != null) {
      messageIdByKey.put(provider + "\n" + idempotencyKey, messageId);
    }
    SandboxLogEntry entry =
        new SandboxLogEntry(
            ++lastId,
            provider,
            SandboxLogEntry.OUTBOUND,
            tenant,
            to,
            from,
            body,
            idempotencyKey,
            clock.instant(),
            earlier != null,
            messageId);
    append(entry);
    return entry;
  }

  /** Logs a reply a twin posts to the engine as {@code messageId}. */
  synchronized SandboxLogEntry recordInbound(
      String provider, String tenant, String to, String from, String body, String messageId) {
    SandboxLogEntry entry =
        new SandboxLogEntry(
            ++lastId,
            provider,
            SandboxLogEntry.INBOUND,
            tenant,
            to,
            from,
            body,
            null,
            clock.instant(),
            false,
            messageId);
    append(entry);
    return entry;
  }

  private void append(SandboxLogEntry entry) {
    entries.addLast(entry);
    if (entries.size() > capacity) {
      entries.removeFirst();
    }
  }

  /** Entries with an id above {@code since} (for {@code tenant} when not null), oldest first. */
  synchronized List<SandboxLogEntry> since(long since, String tenant, int limit) {
    // Newest first from the tail: a poll for recent entries never walks the whole log.
    List<SandboxLogEntry> out = new ArrayList<>();
    Iterator<SandboxLogEntry> newestFirst = entries.descendingIterator();
    while (newestFirst.hasNext()) {
      SandboxLogEntry e = newestFirst.next();
      if (e.id() <= since) {
        break;
      }
      if (tenant == null || tenant.equals(e.tenant())) {
        out.add(e);
      }
    }
    Collections.reverse(out);
    return out.size() > limit ? List.copyOf(out.subList(0, limit)) : out;
  }
}
