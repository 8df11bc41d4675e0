package io.outreach.http;

import com.typesafe.config.Config;
import io.outreach.engine.cathy.FollowUpDrafts;
import io.outreach.engine.cathy.FollowUpReviews;
import io.outreach.engine.enrichment.EnrichmentProvider;
import io.outreach.engine.enrichment.EnrichmentReviews;
import io.outreach.engine.enrichment.EnrichmentStore;
import io.outreach.engine.enrichment.Luci;
import io.outreach.engine.enrichment.LuciSettings;
import io.outreach.engine.gianna.Gianna;
import io.outreach.engine.gianna.GiannaSettings;
import io.outreach.engine.gianna.ReplyReviews;
import io.outreach.engine.outbound.GiannaOutbound;
import io.outreach.engine.outbound.Throttles;
import io.outreach.engine.review.Reviews;
import io.outreach.engine.spend.Prices;
import io.outreach.http.provider.AnthropicReplyModel;
import io.outreach.persistence.EnrichmentRepository;
import io.outreach.persistence.GiannaStore;
import io.outreach.persistence.ReviewRepository;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * A node's agents as the composition root wires them: LUCI (one per tenant, sharded) enriching
 * through Apollo, its jobs and settings; Gianna (one per tenant, sharded) classifying replies with
 * the tenant's model; and the review queue with each kind it knows (LUCI's {@code enrichment},
 * Gianna's {@code reply}).
 */
record Agents(
    EnrichmentStore enrichments,
    LuciSettings luci,
    Reviews reviews,
    FollowUpDrafts drafts,
    FollowUpReviews followUps) {

  /**
   * Registers LUCI and Gianna on this node, calling Apollo through {@code apollo} and the model
   * through {@code model} (its clients closed when the node stops); builds the queue.
   */
  static Agents start(
      ActorSystem<?> system,
      Storage storage,
      EnrichmentProvider apollo,
      AnthropicReplyModel model,
      Duration ask) {
    Config config = system.settings().config();
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    EnrichmentRepository enrichments = new EnrichmentRepository(storage.tenantJdbc());
    LuciSettings luci = LuciSettings.from(config);
    Luci.init(
        system,
        new Luci.Ports(
            enrichments,
            storage.spend(),
            apollo,
            Throttles.of(system, ask),
            Prices.from(config),
            luci,
            blocking,
            Clock.systemUTC(),
            ask));
    GiannaStore replies = new GiannaStore(storage.tenantJdbc(), Clock.systemUTC());
    Gianna.init(
        system,
        new GiannaOutbound(
            ClusterSharding.get(system),
            replies,
            model,
            storage.spend(),
            Prices.from(config),
            ask,
            blocking),
        GiannaSettings.from(config),
        blocking,
        Clock.systemUTC());
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "close-model-clients",
            () ->
                CompletableFuture.supplyAsync(
                    () -> {
                      model.close();
                      return Done.getInstance();
                    }));
    ReviewRepository queue = new ReviewRepository(storage.tenantJdbc());
    FollowUpReviews followUps =
        new FollowUpReviews(queue, ClusterSharding.get(system), ask, blocking);
    Reviews reviews =
        new Reviews(
            queue,
            List.of(
                followUps,
                new ReplyReviews(replies, ClusterSharding.get(system), blocking),
                new EnrichmentReviews(
                    enrichments,
                    storage.spend(),
                    ClusterSharding.get(system),
                    blocking,
                    Clock.systemUTC())),
            blocking,
            Clock.systemUTC());
    FollowUpDrafts drafts =
        new FollowUpDrafts(
            model,
            storage.spend(),
            Prices.from(config),
            ClusterSharding.get(system),
            ask,
            blocking,
            Clock.systemUTC());
    return new Agents(enrichments, luci, reviews, drafts, followUps);
  }
}
