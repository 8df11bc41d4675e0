package io.outreach.engine.outbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.typesafe.config.ConfigFactory;
import io.outreach.engine.ResumableWork;
import io.outreach.engine.campaign.BlockEntity;
import io.outreach.engine.campaign.BlockOutcome;
import io.outreach.engine.campaign.BlockSpec;
import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.campaign.CampaignSenders;
import io.outreach.engine.campaign.Recipient;
import io.outreach.engine.campaign.Recipients;
import io.outreach.engine.compliance.BlockReason;
import io.outreach.engine.compliance.Channel;
import io.outreach.engine.compliance.ComplianceGate;
import io.outreach.engine.compliance.ContactLedger;
import io.outreach.engine.compliance.ContactRules;
import io.outreach.engine.compliance.Decision;
import io.outreach.engine.compliance.GateFacts;
import io.outreach.engine.dnc.DncRegistry;
import io.outreach.engine.provider.Permits;
import io.outreach.engine.provider.ProviderThrottle;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.engine.provider.SmsRequest;
import io.outreach.engine.spend.Budgets;
import io.outreach.engine.spend.Prices;
import io.outreach.engine.spend.SpendLedger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The outbound path end to end with fake ports (no HTTP server, no database): a Block entity,
 * sharded in a one-node cluster, sends through the {@link CampaignOutbound} and the {@link
 * OneWayOut}. Each port logs what it was asked, so the order of one send is checked: the gate's
 * facts, a permit, the person ledger, the provider adapter, the outcome; and a contact the gate
 * stops, at planning or at the moment of sending, never reaches the adapter.
 */
class OutboundPathTest {
  // A Wednesday, 11:00 in New York: inside the legal hours.
  private static final Instant NOW = Instant.parse("2026-11-25T16:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  private static final String ALLOWED = "+12125550100";
  private static final String LISTED = "+12125550101";
  private static final String OPTED_OUT_LATE = "+12125550102";

  private static final Prices PRICES = Prices.from(ConfigFactory.load());
  private static ActorTestKit testKit;
  private static ExecutorService threads;
  private static final List<String> steps = new CopyOnWriteArrayList<>();
  private static final List<BlockOutcome> finished = new CopyOnWriteArrayList<>();
  private static final List<String> adapterCalls = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    testKit =
        ActorTestKit.create(
            ConfigFactory.parseString(
                    "pekko.actor.provider = cluster\n"
                        + "pekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                        + "pekko.remote.artery.canonical.port = 0\n"
                        + "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on")
                .withFallback(ConfigFactory.parseResources("serialization.conf"))
                .withFallback(EventSourcedBehaviorTestKit.config())
                .resolve());
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    await().until(() -> cluster.selfMember().status() == MemberStatus.up());
    threads = Executors.newFixedThreadPool(2);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    threads.shutdownNow();
  }

  private static Recipient recipient(long no, String phone) {
    return new Recipient(
        no, "lead-" + no, phone, List.of("America/New_York"), "NY", Map.of("first_name", "R" + no));
  }

  /** The person ledger: decides at the moment of sending on facts that changed since planning. */
  private static final class FakeLedger implements ContactLedger {
    private final ComplianceGate gate = new ComplianceGate();

    @Override
    public GateFacts planFacts(
        String tenantId, List<String> phones, ContactRules rules, Instant now) {
      steps.add("facts");
      return facts(Set.of(), rules);
    }

    @Override
    public List<Decision> reserve(
        String tenantId,
        List<Candidate> candidates,
        ContactRules rules,
        List<io.outreach.engine.compliance.KillSwitch> killSwitches,
        Instant now,
        Consumer<Candidate> dispatch) {
      List<Decision> decisions = new ArrayList<>();
      // The late opt-out was stored after the block planned.
      GateFacts current = facts(Set.of(OPTED_OUT_LATE), rules);
      for (Candidate c : candidates) {
        Decision d = gate.decide(c.contact(), current, now);
        steps.add("ledger:" + c.contact().phone() + ":" + d.getClass().getSimpleName());
        if (d instanceof Decision.Allow) {
          dispatch.accept(c);
        }
        decisions.add(d);
      }
      return decisions;
    }

    private static GateFacts facts(Set<String> optedOut, ContactRules rules) {
      return new GateFacts(
          List.of(),
          false,
          Map.of(LISTED, DncRegistry.Listing.TENANT),
          optedOut,
          rules,
          Optional.empty(),
          Map.of(),
          Map.of());
    }
  }

  private static final class FakeThrottles implements Throttles {
    @Override
    public CompletionStage<Permits> acquire(
        String tenantId,
        String provider,
        String sender,
        String campaignId,
        String agent,
        Channel channel,
        int wanted) {
      steps.add("permit:" + wanted);
      return CompletableFuture.completedFuture(Permits.granted(wanted, CLOCK.instant(), 100));
    }

    @Override
    public void ended(String tenantId, String provider, ProviderThrottle.Ended ended) {
      steps.add("ended:" + ended.outcome());
    }
  }

  private static final class FakeProvider implements SmsProvider {
    @Override
    public CompletionStage<SendResult> send(SmsRequest request, Runnable answered) {
      steps.add("dispatch:" + request.to());
      adapterCalls.add(request.to() + " " + request.statusCallbackUrl());
      answered.run();
      return CompletableFuture.completedFuture(new SendResult.Accepted("SM" + request.to()));
    }
  }

  /** The spend ledger: room for everything, each step logged. */
  private static final class FakeSpend implements SpendLedger {
    @Override
    public Grant reserve(
        String tenantId,
        String reservationId,
        String requestKey,
        List<Budget> budgets,
        long wantedMicros,
        String campaignId,
        String agent) {
      steps.add("budget:" + wantedMicros);
      return new Grant(wantedMicros, Optional.empty());
    }

    @Override
    public List<Alert> commit(String tenantId, String reservationId, List<Charge> charges) {
      charges.forEach(c -> steps.add("charge:" + c.key() + ":" + c.micros()));
      return List.of();
    }

    @Override
    public void release(String tenantId, String reservationId, List<Charge> holds) {
      steps.add("release");
    }
  }

  private static final class FakeRecipients implements Recipients {
    @Override
    public long snapshot(String tenantId, String campaignId, CampaignDefinition.Audience audience) {
      return 3;
    }

    @Override
    public boolean snapshotted(String tenantId, String campaignId) {
      return true;
    }

    @Override
    public List<Recipient> block(String tenantId, String campaignId, int block) {
      return List.of(recipient(0, ALLOWED), recipient(1, LISTED), recipient(2, OPTED_OUT_LATE));
    }

    @Override
    public Page audiencePage(
        String tenantId,
        CampaignDefinition.Audience audience,
        long after,
        long firstNo,
        int limit) {
      return new Page(List.of(), after);
    }
  }

  private static final class NoWork implements ResumableWork {
    @Override
    public List<String> entityIds(String entityType) {
      return List.of();
    }

    @Override
    public List<String> dueIds(String entityType, Instant now) {
      return List.of();
    }

    @Override
    public void register(String entityType, String entityId) {}

    @Override
    public void wakeAt(String entityType, String entityId, Optional<Instant> at) {}

    @Override
    public void done(String entityType, String entityId) {}
  }

  @Test
  void oneSendGoesGatePermitLedgerDispatchOutcomeAndAStoppedContactNeverReachesTheAdapter() {
    ClusterSharding sharding = ClusterSharding.get(testKit.system());
    OneWayOut out =
        new OneWayOut(
            new FakeThrottles(),
            (tenantId, provider) -> Optional.of(new FakeProvider()),
            (tenantId, provider, key) ->
                "https://engine.example/status/" + tenantId + "?ref=" + key,
            new FakeLedger(),
            CLOCK,
            CLOCK,
            threads);
    ContactRules rules = ContactRules.defaults();
    CampaignOutbound campaigns =
        new CampaignOutbound(
            sharding,
            new FakeRecipients(),
            (tenantId, phones) -> Set.of(),
            new NoWork(),
            new FakeLedger(),
            rules,
            new CampaignSenders(true, PRICES),
            out,
            new FakeSpend(),
            CLOCK,
            Duration.ofSeconds(3),
            threads);
    // The campaign, as the block sees it: every report it gets.
    sharding.init(
        Entity.of(
            CampaignEntity.ENTITY_TYPE_KEY,
            ctx ->
                Behaviors.receiveMessage(
                    m -> {
                      if (m instanceof CampaignEntity.BlockFinished f) {
                        steps.add("outcome:sent=" + f.outcome().sent());
                        finished.add(f.outcome());
                      }
                      return Behaviors.same();
                    })));
    sharding.init(
        Entity.of(
            BlockEntity.ENTITY_TYPE_KEY,
            ctx -> BlockEntity.create(ctx.getEntityId(), campaigns, CLOCK, 4, null)));
    BlockSpec spec =
        new BlockSpec(
            "acme",
            "cmp_path",
            0,
            Channel.SMS,
            "twilio",
            List.of("+15550100001"),
            "Hi {{first_name}}",
            List.of(),
            null,
            List.of(),
            new Budgets(1_000_000, null, null, "America/New_York"),
            PRICES.segment("twilio"));

    campaigns.tellBlock("acme", "cmp_path", 0, new BlockEntity.Start(spec));

    await().atMost(Duration.ofSeconds(10)).until(() -> !finished.isEmpty());
    BlockOutcome outcome = finished.get(0);
    assertThat(outcome.sent()).isEqualTo(1);
    assertThat(outcome.blocked())
        .containsEntry(BlockReason.DNC, 1L)
        .containsEntry(BlockReason.OPT_OUT, 1L);
    // The order of one send through the path, and what each stop reached.
    // The plan reserves what its two sends cost (one segment each, disclosure included); the one
    // accepted is charged after its dispatch, and what is left released.
    long cost = PRICES.sms("twilio", 1);
    assertThat(steps)
        .containsSubsequence(
            "facts",
            "budget:" + 2 * cost,
            "permit:2",
            "ledger:" + ALLOWED + ":Allow",
            "dispatch:" + ALLOWED,
            "ended:SUCCEEDED",
            "outcome:sent=1");
    await()
        .untilAsserted(
            () ->
                assertThat(steps)
                    .containsSubsequence(
                        "dispatch:" + ALLOWED, "charge:cmp_path:0:0:" + cost, "release"));
    assertThat(steps).filteredOn(s -> s.startsWith("charge:")).hasSize(1);
    assertThat(steps).contains("ledger:" + OPTED_OUT_LATE + ":Block", "ended:UNUSED");
    assertThat(steps)
        .as("a number stopped at planning takes no permit and no ledger")
        .noneMatch(s -> s.contains(LISTED));
    assertThat(adapterCalls)
        .as("only the allowed contact reaches the adapter, with its receipts' URL")
        .containsExactly(ALLOWED + " https://engine.example/status/acme?ref=cmp_path:0:0");
  }
}
