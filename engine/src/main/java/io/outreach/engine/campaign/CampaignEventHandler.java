package io.outreach.engine.campaign;

import io.outreach.engine.campaign.CampaignEntity.BlockCompleted;
import io.outreach.engine.campaign.CampaignEntity.BlockParked;
import io.outreach.engine.campaign.CampaignEntity.BlockResumed;
import io.outreach.engine.campaign.CampaignEntity.BlockSettled;
import io.outreach.engine.campaign.CampaignEntity.BlockStarted;
import io.outreach.engine.campaign.CampaignEntity.Cancelled;
import io.outreach.engine.campaign.CampaignEntity.Completed;
import io.outreach.engine.campaign.CampaignEntity.Created;
import io.outreach.engine.campaign.CampaignEntity.Event;
import io.outreach.engine.campaign.CampaignEntity.LaunchStarted;
import io.outreach.engine.campaign.CampaignEntity.Paused;
import io.outreach.engine.campaign.CampaignEntity.Planned;
import io.outreach.engine.campaign.CampaignEntity.Resumed;
import io.outreach.engine.campaign.CampaignEntity.Scheduled;
import io.outreach.engine.campaign.CampaignEntity.State;
import io.outreach.engine.campaign.CampaignEntity.Status;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandlerBuilder;

/**
 * The {@link CampaignEntity}'s event handler: what each of its events does to its {@link State}, as
 * pure functions (a replay after a restart runs exactly these).
 *
 * <p>It has a file of its own only because the entity went past the 600 lines a source file may
 * have. {@link State} itself stays nested in the entity, since stored snapshots name its class.
 */
final class CampaignEventHandler {
  private CampaignEventHandler() {}

  /** The state before any event: a campaign that does not exist. */
  static State empty() {
    return new State(
        null,
        null,
        Status.NEW,
        null,
        null,
        0,
        0,
        new TreeSet<>(),
        new TreeSet<>(),
        Map.of(),
        CampaignCounts.of(0));
  }

  static EventHandler<State, Event> create() {
    return EventHandlerBuilder.<State, Event>builder()
        .forAnyState()
        .onEvent(Created.class, (s, e) -> created(e))
        .onEvent(
            CampaignEntity.FollowUpDecided.class,
            (s, e) -> withDefinition(s, s.definition().withReviewDecided(e.reviewId(), e.text())))
        .onEvent(Scheduled.class, CampaignEventHandler::scheduled)
        .onEvent(LaunchStarted.class, (s, e) -> with(s, Status.LAUNCHING))
        .onEvent(Planned.class, CampaignEventHandler::planned)
        .onEvent(BlockStarted.class, CampaignEventHandler::blockStarted)
        .onEvent(BlockCompleted.class, CampaignEventHandler::blockCompleted)
        .onEvent(BlockSettled.class, CampaignEventHandler::blockSettled)
        .onEvent(
            BlockParked.class,
            (s, e) -> {
              Map<Integer, BlockOutcome> waiting = new TreeMap<>(s.waiting());
              waiting.put(e.outcome().block(), e.outcome());
              return withWaiting(s, waiting);
            })
        .onEvent(
            BlockResumed.class,
            (s, e) -> {
              Map<Integer, BlockOutcome> waiting = new TreeMap<>(s.waiting());
              waiting.remove(e.block());
              return withWaiting(s, waiting);
            })
        .onEvent(Paused.class, (s, e) -> with(s, Status.PAUSED))
        .onEvent(
            Resumed.class, (s, e) -> with(s, s.blocks() == 0 ? Status.LAUNCHING : Status.RUNNING))
        .onEvent(Cancelled.class, (s, e) -> with(s, Status.CANCELLED))
        .onEvent(Completed.class, (s, e) -> with(s, Status.COMPLETED))
        .build();
  }

  private static State created(Created e) {
    return new State(
        e.campaignId(),
        e.definition(),
        Status.DRAFT,
        e.at(),
        null,
        0,
        0,
        new TreeSet<>(),
        new TreeSet<>(),
        Map.of(),
        CampaignCounts.of(0));
  }

  private static State withDefinition(State s, CampaignDefinition d) {
    return new State(
        s.campaignId(),
        d,
        s.status(),
        s.createdAt(),
        s.startAt(),
        s.blocks(),
        s.nextBlock(),
        s.finished(),
        s.settled(),
        s.waiting(),
        s.counts());
  }

  private static State scheduled(State s, Scheduled e) {
    return new State(
        s.campaignId(),
        s.definition(),
        Status.SCHEDULED,
        s.createdAt(),
        e.startAt(),
        0,
        0,
        s.finished(),
        s.settled(),
        s.waiting(),
        s.counts());
  }

  /** The audience is split into blocks, none started yet; a launch paused meanwhile stays so. */
  private static State planned(State s, Planned e) {
    return new State(
        s.campaignId(),
        s.definition(),
        s.status() == Status.PAUSED ? Status.PAUSED : Status.RUNNING,
        s.createdAt(),
        s.startAt(),
        e.blocks(),
        0,
        new TreeSet<>(),
        new TreeSet<>(),
        Map.of(),
        CampaignCounts.of(e.recipients()));
  }

  private static State blockStarted(State s, BlockStarted e) {
    return new State(
        s.campaignId(),
        s.definition(),
        s.status(),
        s.createdAt(),
        s.startAt(),
        s.blocks(),
        e.block() + 1,
        s.finished(),
        s.settled(),
        s.waiting(),
        s.counts());
  }

  /** A block's first step is counted, and it no longer waits. */
  private static State blockCompleted(State s, BlockCompleted e) {
    TreeSet<Integer> finished = new TreeSet<>(s.finished());
    finished.add(e.outcome().block());
    Map<Integer, BlockOutcome> waiting = new TreeMap<>(s.waiting());
    waiting.remove(e.outcome().block());
    return new State(
        s.campaignId(),
        s.definition(),
        s.status(),
        s.createdAt(),
        s.startAt(),
        s.blocks(),
        s.nextBlock(),
        finished,
        s.settled(),
        waiting,
        s.counts().plus(e.outcome()));
  }

  /** A block is done with every step: its follow-ups are counted. */
  private static State blockSettled(State s, BlockSettled e) {
    TreeSet<Integer> settled = new TreeSet<>(s.settled());
    settled.add(e.outcome().block());
    return new State(
        s.campaignId(),
        s.definition(),
        s.status(),
        s.createdAt(),
        s.startAt(),
        s.blocks(),
        s.nextBlock(),
        s.finished(),
        settled,
        s.waiting(),
        s.counts().withFollowUps(e.outcome()));
  }

  private static State with(State s, Status status) {
    return new State(
        s.campaignId(),
        s.definition(),
        status,
        s.createdAt(),
        s.startAt(),
        s.blocks(),
        s.nextBlock(),
        s.finished(),
        s.settled(),
        s.waiting(),
        s.counts());
  }

  private static State withWaiting(State s, Map<Integer, BlockOutcome> waiting) {
    return new State(
        s.campaignId(),
        s.definition(),
        s.status(),
        s.createdAt(),
        s.startAt(),
        s.blocks(),
        s.nextBlock(),
        s.finished(),
        s.settled(),
        waiting,
        s.counts());
  }
}
