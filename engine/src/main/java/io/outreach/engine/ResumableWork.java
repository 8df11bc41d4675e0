package io.outreach.engine;

import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entities with unfinished work, across all tenants, so that work resumes by itself after a crash:
 * the engine wakes each one at start. Only ids are kept (they carry the tenant).
 */
public interface ResumableWork {

  /** Entity ids of {@code entityType} with work due now or at start (no future wake-up time). */
  List<String> entityIds(String entityType);

  /** Entity ids of {@code entityType} whose wake-up time has come by {@code now}. */
  List<String> dueIds(String entityType, java.time.Instant now);

  /** Marks {@code entityId} as having work to resume after a crash (idempotent). */
  void register(String entityType, String entityId);

  /**
   * Marks {@code entityId} to be woken at {@code at} (a durable timer), or at the next start when
   * empty; replaces an earlier mark.
   */
  void wakeAt(String entityType, String entityId, java.util.Optional<java.time.Instant> at);

  /** The work of {@code entityId} is done (idempotent). */
  void done(String entityType, String entityId);

  /** Sends {@code wake} to every entity of {@code key} with unfinished work. */
  static <M> int wake(
      ActorSystem<?> system, ResumableWork work, EntityTypeKey<M> key, Function<String, M> wake) {
    Logger log = LoggerFactory.getLogger(ResumableWork.class);
    List<String> ids = work.entityIds(key.name());
    ClusterSharding sharding = ClusterSharding.get(system);
    ids.forEach(id -> sharding.entityRefFor(key, id).tell(wake.apply(id)));
    if (!ids.isEmpty()) {
      log.info("woke {} {} entities with unfinished work", ids.size(), key.name());
    }
    return ids.size();
  }
}
