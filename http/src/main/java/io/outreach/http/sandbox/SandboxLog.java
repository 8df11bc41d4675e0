package io.outreach.http.sandbox;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The twins' memory: every message request and scripted reply in arrival order, and the idempotency
 * keys seen per provider with what each first request was. It keeps at most {@code capacity}
 * entries and as many keys, dropping the oldest first, because the standalone sandbox runs through
 * whole load tests: an entry older than that is gone from {@code GET /sandbox/log}, and a key older
 * than that is forgotten (a request repeating it is a new message). One lock is plenty for a test
 * twin.
 */
final class SandboxLog {
  /**
   * One message of a request, before it is logged.
   *
   * @param blocked why the provider took it without sending it, or null
   */
  record Message(String to, String from, String body, String messageId, String blocked) {}

  /** What an idempotency key says about a request that carries it. */
  enum KeyState {
    /** Not seen: the request is now in flight under it. */
    FRESH,
    /** A request with this key and body is still being handled. */
    IN_FLIGHT,
    /** Handled before with this body: answer as then, deliver nothing. */
    REPLAY,
    /** Seen with another body. */
    CONFLICT
  }

  /** What is known of a key: the body's fingerprint, and its messages once handled. */
  private record Remembered(String fingerprint, List<SandboxLogEntry> first) {}

  private final int capacity;
  private final Clock clock;
  private final ArrayDeque<SandboxLogEntry> entries = new ArrayDeque<>();
  private final Map<String, Remembered> keys;
  private long lastId;

  SandboxLog(int capacity, Clock clock) {
    this.capacity = capacity;
    this.clock = clock;
    this.keys =
        new LinkedHashMap<>() {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Remembered> eldest) {
            return size() > SandboxLog.this.capacity;
          }
        };
  }

  /**
   * Claims {@code key} for a request whose body has {@code fingerprint}: {@link KeyState#FRESH}
   * marks it in flight until the request is {@link #record recorded}.
   */
  synchronized KeyState claim(String provider, String key, String fingerprint) {
    Remembered r = keys.get(provider + "\n" + key);
    if (r == null) {
      keys.put(provider + "\n" + key, new Remembered(fingerprint, null));
      return KeyState.FRESH;
    }
    if (!Objects.equals(r.fingerprint(), fingerprint)) {
      return KeyState.CONFLICT;
    }
    return r.first() == null ? KeyState.IN_FLIGHT : KeyState.REPLAY;
  }

  /**
   * Logs a request's messages. One repeating a (provider, idempotency key) already handled is
   * logged as duplicates of the first request's messages (their ids, their outcome); otherwise the
   * {@code messages} are logged as new and remembered under the key.
   */
  synchronized List<SandboxLogEntry> record(
      String provider,
      String tenant,
      String idempotencyKey,
      String fingerprint,
      List<Message> messages) {
    Instant at = clock.instant();
    String k = idempotencyKey == null ? null : provider + "\n" + idempotencyKey;
    Remembered earlier = k == null ? null : keys.get(k);
    List<SandboxLogEntry> logged = new ArrayList<>();
    if (earlier != null && earlier.first() != null) {
      for (SandboxLogEntry e : earlier.first()) {
        logged.add(
            append(
                new SandboxLogEntry(
                    ++lastId,
                    provider,
                    SandboxLogEntry.OUTBOUND,
                    tenant,
                    e.to(),
                    e.from(),
                    e.body(),
                    idempotencyKey,
                    at,
                    true,
                    e.messageId(),
                    e.blocked())));
      }
      return logged;
    }
    for (Message m : messages) {
      logged.add(
          append(
              new SandboxLogEntry(
                  ++lastId,
                  provider,
                  SandboxLogEntry.OUTBOUND,
                  tenant,
                  m.to(),
                  m.from(),
                  m.body(),
                  idempotencyKey,
                  at,
                  false,
                  m.messageId(),
                  m.blocked())));
    }
    if (k != null) {
      keys.put(k, new Remembered(fingerprint, List.copyOf(logged)));
    }
    return logged;
  }

  /** Logs a reply a twin posts to the engine as {@code messageId}. */
  synchronized SandboxLogEntry recordInbound(
      String provider, String tenant, String to, String from, String body, String messageId) {
    return append(
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
            messageId,
            null));
  }

  private SandboxLogEntry append(SandboxLogEntry entry) {
    entries.addLast(entry);
    if (entries.size() > capacity) {
      entries.removeFirst();
    }
    return entry;
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
