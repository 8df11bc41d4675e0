package io.outreach.engine.spend;

import java.util.List;
import java.util.Optional;

/**
 * A tenant's spend, durable and exact (implemented in PostgreSQL): money is reserved against every
 * budget a piece of work falls under before the work starts, committed as each paid call is
 * accepted, and what is left released when the work ends. A reservation never takes more than every
 * budget has left, also when several campaigns, agents and nodes race for the last cents. Amounts
 * are micro-dollars. Blocking calls: run them off actor and HTTP threads.
 */
public interface SpendLedger {

  /** One budget: a bucket (a period of the tenant, a campaign, an agent's day) and its limit. */
  record Budget(String bucket, long limitMicros) {}

  /**
   * What a reservation got: at most what was wanted; when less, {@code exhausted} names the budget
   * that had no more.
   */
  record Grant(long grantedMicros, Optional<String> exhausted) {}

  /** One paid call's actual cost, under its idempotency key (a repeat is charged once). */
  record Charge(String key, long micros) {}

  /** A budget that crossed 50, 80 or 100 percent with a commit. */
  record Alert(String bucket, int percent, long committedMicros, long limitMicros) {}

  /**
   * Adds up to {@code wantedMicros} to the reservation, taken from all {@code budgets} at once: the
   * smallest room any of them has. A reservation is one piece of work's (a block's, an agent job's)
   * and grows request by request; each {@code requestKey} is granted once (a repeat answers its
   * first grant).
   */
  Grant reserve(
      String tenantId,
      String reservationId,
      String requestKey,
      List<Budget> budgets,
      long wantedMicros,
      String campaignId,
      String agent);

  /**
   * Commits the charges against the reservation (moving them from reserved to spent); a charge
   * whose key was committed before counts once. Answers the alerts the commit set off.
   */
  List<Alert> commit(String tenantId, String reservationId, List<Charge> charges);

  /**
   * Gives back what the reservation holds and has not spent (idempotent); a later request may
   * reserve again.
   */
  default void release(String tenantId, String reservationId) {
    release(tenantId, reservationId, List.of());
  }

  /**
   * Gives back what the reservation holds and has not spent but for {@code holds}: each is work
   * under way whose cost is not known yet (a placed call), under the key its cost will be committed
   * with, and keeps its amount reserved until that commit, which gives back what it did not use. A
   * hold whose key was committed already is over. Idempotent, a hold counting once.
   */
  void release(String tenantId, String reservationId, List<Charge> holds);
}
