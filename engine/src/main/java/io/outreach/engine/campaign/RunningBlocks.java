package io.outreach.engine.campaign;

import io.outreach.engine.campaign.CampaignEntity.BlockCompleted;
import io.outreach.engine.campaign.CampaignEntity.BlockParked;
import io.outreach.engine.campaign.CampaignEntity.BlockResumed;
import io.outreach.engine.campaign.CampaignEntity.BlockSettled;
import io.outreach.engine.campaign.CampaignEntity.BlockStarted;
import io.outreach.engine.campaign.CampaignEntity.Completed;
import io.outreach.engine.campaign.CampaignEntity.Event;
import io.outreach.engine.campaign.CampaignEntity.State;
import io.outreach.engine.campaign.CampaignEntity.Status;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A campaign's blocks as they run: what their reports make the campaign journal, which block gets a
 * free slot, and what the campaign keeps in memory beside its journal (the latest counts of each
 * block still sending its first messages or waiting to, and which waiting blocks asked for a slot,
 * in the order they asked). Reports are told, never asked, and may come twice: a repeat, or one
 * from a block the campaign does not know as running, journals nothing.
 *
 * <p>None of the memory is journaled: after a restart the campaign tells every unsettled block to
 * start again, and the blocks report and ask again.
 */
final class RunningBlocks {
  private final int maxInFlight;
  private final Map<Integer, BlockOutcome> latest = new HashMap<>();
  private final Set<Integer> due = new LinkedHashSet<>();

  /** {@code maxInFlight}: at most this many blocks hold a slot at once. */
  RunningBlocks(int maxInFlight) {
    this.maxInFlight = maxInFlight;
  }

  /**
   * After a restart (also one inside the same entity object, on a journal failure): the slot
   * requests are forgotten, since waiting blocks ask again; the latest counts are kept, so the
   * campaign's counts do not go back meanwhile.
   */
  void forget() {
    due.clear();
  }

  /** A block's counts so far; kept while it is started and its first step not over. */
  void progress(State s, BlockOutcome outcome) {
    if (s.started(outcome.block())) {
      latest.put(outcome.block(), outcome);
    }
  }

  /** A block's first step is over: its outcome to journal ({@link BlockCompleted}). */
  List<Event> finished(State s, BlockOutcome outcome) {
    int block = outcome.block();
    latest.remove(block);
    if (block < 0 || block >= s.blocks() || s.finished().contains(block)) {
      return List.of();
    }
    return List.of(new BlockCompleted(outcome));
  }

  /**
   * A block is done with every step: settled, counted first if it never reported its first step (it
   * was cancelled), and the campaign completed with its last block unless it was cancelled.
   */
  List<Event> done(State s, BlockOutcome outcome, Instant now) {
    int block = outcome.block();
    if (block < 0 || block >= s.blocks() || s.settled().contains(block)) {
      return List.of();
    }
    latest.remove(block);
    List<Event> events = new ArrayList<>();
    if (!s.finished().contains(block)) {
      events.add(new BlockCompleted(outcome));
    }
    events.add(new BlockSettled(outcome));
    if (s.settled().size() + 1 == s.blocks() && s.status() != Status.CANCELLED) {
      events.add(new Completed(now));
    }
    return events;
  }

  /** A running block gave its slot back: parked with the counts it reported. */
  List<Event> waiting(State s, BlockOutcome outcome) {
    int block = outcome.block();
    if (!s.started(block) || s.waiting().containsKey(block)) {
      return List.of();
    }
    latest.put(block, outcome);
    return List.of(new BlockParked(outcome));
  }

  /** A waiting block asked for a slot (it gets one from {@link #next}). */
  void asked(int block) {
    due.add(block);
  }

  /** Whether a running campaign has a free slot and a block to give it to. */
  boolean wantSlot(State s) {
    boolean taker = s.nextBlock() < s.blocks() || due.stream().anyMatch(s.waiting()::containsKey);
    return s.status() == Status.RUNNING && s.inFlight() < maxInFlight && taker;
  }

  /**
   * Gives a free slot: to the waiting block that asked first ({@link BlockResumed}), which has
   * waited longer than any block not started and whose window may close, else to the next block
   * ({@link BlockStarted}); nothing when no slot is free or no block wants one.
   */
  List<Event> next(State s) {
    if (s.status() != Status.RUNNING || s.inFlight() >= maxInFlight) {
      return List.of();
    }
    due.retainAll(s.waiting().keySet());
    if (!due.isEmpty()) {
      int block = due.iterator().next();
      due.remove(block);
      return List.of(new BlockResumed(block));
    }
    return s.nextBlock() < s.blocks() ? List.of(new BlockStarted(s.nextBlock())) : List.of();
  }

  /**
   * Whether no block will report again: the campaign completed, or it was cancelled and every block
   * it started has settled.
   */
  static boolean over(State s) {
    return s.status() == Status.COMPLETED
        || s.status() == Status.CANCELLED && s.settled().size() >= s.nextBlock();
  }

  /** The latest counts by block. */
  Map<Integer, BlockOutcome> latest() {
    return Collections.unmodifiableMap(latest);
  }
}
