package io.outreach.engine.conversation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.outreach.engine.EntityTestKits;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A person's Conversation: a message handed over to answer is journaled once with its reply, the
 * reply goes once with a key of its own, and one not done before a restart goes again with the same
 * key; consent follows the keywords.
 */
class ConversationEntityTest {
  private static final Instant T0 = Instant.parse("2026-11-25T16:00:00Z");
  private static final String PHONE = "+12125550101";
  private static ActorTestKit testKit;
  private ScriptedPorts ports;
  private EventSourcedBehaviorTestKit<
          ConversationEntity.Command, ConversationEntity.Event, ConversationEntity.State>
      kit;

  @BeforeAll
  static void start() {
    testKit = EntityTestKits.create();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** Messages to answer as the store would hand them over, and replies the test answers by hand. */
  static final class ScriptedPorts implements ConversationPorts {
    volatile List<InboundMessage> toAnswer = List.of();
    final List<List<InboundMessage>> answered = new CopyOnWriteArrayList<>();
    final List<Reply> replies = new CopyOnWriteArrayList<>();
    final Map<String, CompletableFuture<ReplyResult>> calls = new ConcurrentHashMap<>();

    @Override
    public CompletionStage<List<InboundMessage>> toAnswer(String tenantId, String phone) {
      return CompletableFuture.completedFuture(toAnswer);
    }

    @Override
    public CompletionStage<Void> answered(
        String tenantId, String phone, List<InboundMessage> messages) {
      answered.add(messages);
      toAnswer = toAnswer.stream().filter(m -> !messages.contains(m)).toList();
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<ReplyTexts> texts(String tenantId) {
      return CompletableFuture.completedFuture(new ReplyTexts("Acme", "help@acme.example"));
    }

    @Override
    public CompletionStage<ReplyResult> reply(String tenantId, Reply reply) {
      replies.add(reply);
      CompletableFuture<ReplyResult> f = new CompletableFuture<>();
      calls.put(reply.key() + "#" + replies.size(), f);
      return f;
    }

    void answerLast(ReplyResult result) {
      Reply last = replies.get(replies.size() - 1);
      calls.get(last.key() + "#" + replies.size()).complete(result);
    }
  }

  private static InboundMessage inbound(String key, String body, InboundEffect effect) {
    return new InboundMessage(key, "twilio", PHONE, "+15550100001", body, T0, effect);
  }

  @BeforeEach
  void fresh() {
    ports = new ScriptedPorts();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            ConversationEntity.create("acme:" + PHONE, ports, Clock.fixed(T0, ZoneOffset.UTC), 4));
    kit.clear();
  }

  private ConversationEntity.State state() {
    return kit.<StatusReply<ConversationEntity.State>>runCommand(ConversationEntity.Get::new)
        .reply()
        .getValue();
  }

  @Test
  void aStopIsJournaledOnceAndConfirmedOnceEvenWhenHandedOverTwice() {
    InboundMessage stop = inbound("SM1", "STOP", InboundEffect.OPTED_OUT);
    ports.toAnswer = List.of(stop);
    kit.runCommand(ConversationEntity.Wake.INSTANCE);
    await().atMost(Duration.ofSeconds(5)).until(() -> ports.replies.size() == 1);
    Reply confirmation = ports.replies.get(0);
    assertThat(confirmation.kind()).isEqualTo(Reply.Kind.OPT_OUT_CONFIRMATION);
    assertThat(confirmation.to()).isEqualTo(PHONE);
    assertThat(confirmation.from()).isEqualTo("+15550100001");
    assertThat(confirmation.body()).startsWith("Acme: You are unsubscribed");
    assertThat(confirmation.key()).isEqualTo(ConversationEntity.replyKey("SM1"));
    assertThat(ports.answered).containsExactly(List.of(stop));
    ports.answerLast(new ConversationPorts.ReplyResult.Sent("SMreply"));
    await().atMost(Duration.ofSeconds(5)).until(() -> state().pendingReplies().isEmpty());
    assertThat(state().optedOut()).isTrue();

    // Handed over again (a crash between the journal and the mark): answered, not again confirmed.
    ports.toAnswer = List.of(stop);
    kit.runCommand(ConversationEntity.Wake.INSTANCE);
    await().atMost(Duration.ofSeconds(5)).until(() -> ports.answered.size() == 2);
    assertThat(ports.replies).hasSize(1);
    // The inbound key and the key of its one confirmation: both remembered, neither twice.
    assertThat(kit.getState().seen()).containsExactly("SM1", ConversationEntity.replyKey("SM1"));
  }

  @Test
  void aSnapshotKeepsTheKeysAnsweredOldestFirst() {
    ConversationEntity.State s =
        new ConversationEntity.State(
            PHONE,
            true,
            T0,
            null,
            Map.of(),
            new java.util.LinkedHashSet<>(List.of("SM9", "SM5", "SM1")));

    ConversationEntity.State back = testKit.serializationTestKit().verifySerialization(s, true);

    assertThat(back.seen()).containsExactly("SM9", "SM5", "SM1");
  }

  @Test
  void aReplyNotDoneBeforeARestartGoesAgainWithTheSameKey() {
    ports.toAnswer = List.of(inbound("SM2", "HELP", InboundEffect.HELP));
    kit.runCommand(ConversationEntity.Wake.INSTANCE);
    await().atMost(Duration.ofSeconds(5)).until(() -> ports.replies.size() == 1);
    String key = ports.replies.get(0).key();
    assertThat(ports.replies.get(0).body())
        .contains("help@acme.example")
        .contains("Msg & data rates may apply");

    kit.restart();
    await().atMost(Duration.ofSeconds(5)).until(() -> ports.replies.size() == 2);
    assertThat(ports.replies.get(1).key()).isEqualTo(key);
    ports.answerLast(new ConversationPorts.ReplyResult.Sent("SMhelp"));
    await().atMost(Duration.ofSeconds(5)).until(() -> kit.getState().pendingReplies().isEmpty());
    assertThat(ports.replies).hasSize(2);
  }

  @Test
  void startAfterStopOptsBackInAndARefusedReplyIsDoneForGood() {
    ports.toAnswer =
        List.of(
            inbound("SM3", "STOP", InboundEffect.OPTED_OUT),
            inbound("SM4", "START", InboundEffect.OPTED_IN));
    kit.runCommand(ConversationEntity.Wake.INSTANCE);
    await().atMost(Duration.ofSeconds(5)).until(() -> ports.replies.size() == 2);
    assertThat(ports.replies)
        .extracting(Reply::kind)
        .containsExactly(Reply.Kind.OPT_OUT_CONFIRMATION, Reply.Kind.OPT_IN_CONFIRMATION);
    assertThat(kit.getState().optedOut()).isFalse();
    ports
        .calls
        .values()
        .forEach(f -> f.complete(new ConversationPorts.ReplyResult.Refused("blocked")));
    await().atMost(Duration.ofSeconds(5)).until(() -> kit.getState().pendingReplies().isEmpty());
    assertThat(ports.replies).hasSize(2);
  }
}
