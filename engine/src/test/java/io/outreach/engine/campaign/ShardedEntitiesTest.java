package io.outreach.engine.campaign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.typesafe.config.ConfigFactory;
import io.outreach.engine.conversation.ConversationEntity;
import io.outreach.engine.conversation.ConversationInbox;
import io.outreach.engine.conversation.ConversationPorts;
import io.outreach.engine.conversation.InboundMessage;
import io.outreach.engine.conversation.InboxBatch;
import io.outreach.engine.conversation.InboxPorts;
import io.outreach.engine.conversation.Reply;
import io.outreach.engine.conversation.ReplyTexts;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The entities as their {@code init} registers them with Cluster Sharding on a one-node cluster: a
 * block and a campaign that are done leave their shard (passivated) and come back for the next
 * message; a tenant's inbox wakes the Conversations it hands messages to.
 */
class ShardedEntitiesTest {
  private static final Duration ASK = Duration.ofSeconds(5);
  private static ActorTestKit testKit;
  private static ClusterSharding sharding;

  @BeforeAll
  static void start() {
    testKit =
        ActorTestKit.create(
            "ShardedEntitiesTest",
            ConfigFactory.parseString(
                    """
                    pekko.actor.provider = cluster
                    pekko.remote.artery.canonical.hostname = 127.0.0.1
                    pekko.remote.artery.canonical.port = 0
                    pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                    """)
                .withFallback(ConfigFactory.parseResources("serialization.conf"))
                .withFallback(EventSourcedBehaviorTestKit.config())
                .resolve());
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    await().until(() -> cluster.selfMember().status() == MemberStatus.up());
    sharding = ClusterSharding.get(testKit.system());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** The ids of the entities of {@code type} this node's shard region holds in memory. */
  private static Set<String> inMemory(EntityTypeKey<?> type) {
    TestProbe<ShardRegion.CurrentShardRegionState> probe = testKit.createTestProbe();
    sharding.shardState().tell(new GetShardRegionState(type, probe.ref()));
    return probe.receiveMessage().getShards().stream()
        .flatMap(shard -> shard.getEntityIds().stream())
        .collect(Collectors.toSet());
  }

  @Test
  void aDoneBlockLeavesItsShardAndComesBackForTheNextMessage() {
    BlockEntityTest.ScriptedPorts ports = new BlockEntityTest.ScriptedPorts();
    ports.recipients.add(
        new Recipient(
            0,
            "lead-0",
            "+12125550100",
            List.of("America/New_York"),
            "NY",
            Map.of("first_name", "Ann")));
    BlockEntity.init(testKit.system(), ports, Clock.systemUTC(), 4);
    BlockSpec spec = BlockEntityTest.spec("cmp_s");
    var block = sharding.entityRefFor(BlockEntity.ENTITY_TYPE_KEY, spec.entityId());

    block.tell(new BlockEntity.Start(spec));
    await().until(() -> ports.dispatched.size() == 1);
    assertThat(inMemory(BlockEntity.ENTITY_TYPE_KEY)).contains(spec.entityId());
    ports.acceptAll();
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(1));
    await()
        .untilAsserted(
            () ->
                assertThat(inMemory(BlockEntity.ENTITY_TYPE_KEY)).doesNotContain(spec.entityId()));

    block.tell(new BlockEntity.Start(spec));
    await().untilAsserted(() -> assertThat(ports.completed).hasSize(2));
    assertThat(ports.dispatched).as("recovered from its journal: nothing is sent again").hasSize(1);
  }

  @Test
  void aCompletedCampaignLeavesItsShardAndStillAnswers() {
    CampaignEntityTest.ScriptedPorts ports = new CampaignEntityTest.ScriptedPorts();
    CampaignEntity.init(testKit.system(), ports, Clock.systemUTC(), 2, 4);
    String id = CampaignEntity.entityId("acme", "cmp_empty");
    var campaign = sharding.entityRefFor(CampaignEntity.ENTITY_TYPE_KEY, id);

    campaign
        .<CampaignView>askWithStatus(
            r -> new CampaignEntity.Create(CampaignEntityTest.definition(null), "ops", r), ASK)
        .toCompletableFuture()
        .join();
    campaign
        .<CampaignView>askWithStatus(r -> new CampaignEntity.Launch("ops", r), ASK)
        .toCompletableFuture()
        .join();
    await().until(() -> ports.snapshots.size() == 1);
    ports.snapshots.get(0).complete(0L);
    await().untilAsserted(() -> assertThat(ports.settled).contains("cmp_empty"));
    await()
        .untilAsserted(
            () -> assertThat(inMemory(CampaignEntity.ENTITY_TYPE_KEY)).doesNotContain(id));

    CampaignView view =
        campaign
            .<CampaignView>askWithStatus(CampaignEntity.Get::new, ASK)
            .toCompletableFuture()
            .join();
    assertThat(view.state()).isEqualTo("completed");
  }

  @Test
  void anInboxWakesTheConversationsItHandsMessagesTo() {
    List<String> woken = new CopyOnWriteArrayList<>();
    ConversationEntity.init(
        testKit.system(),
        new ConversationPorts() {
          @Override
          public CompletionStage<List<InboundMessage>> toAnswer(String tenantId, String phone) {
            woken.add(tenantId + ":" + phone);
            return CompletableFuture.completedFuture(List.of());
          }

          @Override
          public CompletionStage<Void> answered(
              String tenantId, String phone, List<InboundMessage> messages) {
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public CompletionStage<ReplyTexts> texts(String tenantId) {
            return CompletableFuture.completedFuture(new ReplyTexts("Acme", "help@acme.example"));
          }

          @Override
          public CompletionStage<ReplyResult> reply(String tenantId, Reply reply) {
            return new CompletableFuture<>();
          }
        },
        Clock.systemUTC(),
        4);
    ConversationInbox.init(
        testKit.system(),
        new InboxPorts() {
          @Override
          public CompletionStage<InboxBatch> processNext(String tenantId) {
            return CompletableFuture.completedFuture(
                new InboxBatch(1, false, List.of("+12125550101"), false));
          }

          @Override
          public void answer(String tenantId, String phone) {
            sharding
                .entityRefFor(
                    ConversationEntity.ENTITY_TYPE_KEY,
                    ConversationEntity.entityId(tenantId, phone))
                .tell(ConversationEntity.Wake.INSTANCE);
          }

          @Override
          public void classify(String tenantId) {}

          @Override
          public CompletionStage<Void> settle(String tenantId) {
            return CompletableFuture.completedFuture(null);
          }
        });

    sharding
        .entityRefFor(ConversationInbox.ENTITY_TYPE_KEY, "acme")
        .tell(ConversationInbox.Wake.INSTANCE);

    await().untilAsserted(() -> assertThat(woken).contains("acme:+12125550101"));
  }
}
