package io.outreach.http;

import com.zaxxer.hikari.HikariDataSource;
import io.outreach.config.Settings;
import io.outreach.engine.intake.UploadStore;
import io.outreach.persistence.CampaignReadModel;
import io.outreach.persistence.ContactLedgerRepository;
import io.outreach.persistence.Database;
import io.outreach.persistence.DncRepository;
import io.outreach.persistence.ImportLedger;
import io.outreach.persistence.PostgresUploadStore;
import io.outreach.persistence.ProviderAccountRepository;
import io.outreach.persistence.ResumableWorkRepository;
import io.outreach.persistence.SecretBox;
import io.outreach.persistence.SpendRepository;
import io.outreach.persistence.TenantJdbc;
import io.outreach.persistence.WebhookReceipts;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A node's storage: the repositories and read models over PostgreSQL that more than one part of the
 * node uses, and the pools of their own (webhook writers, the send path, projections).
 */
record Storage(
    TenantJdbc tenantJdbc,
    UploadStore uploads,
    ImportLedger imports,
    DncRepository dnc,
    ResumableWorkRepository work,
    WebhookReceipts receipts,
    ContactLedgerRepository contacts,
    CampaignReadModel campaigns,
    ProviderAccountRepository accounts,
    SpendRepository spend,
    HikariDataSource projectionPool) {

  static Storage open(ActorSystem<?> system, Settings settings, Database database) {
    Settings.Pools pools = settings.pools();
    // Connections of their own (one per writer): persist-before-2xx never waits behind others.
    WebhookReceipts receipts =
        new WebhookReceipts(
            new TenantJdbc(database.newPool("outreach-webhooks", pools.webhookWriters(), false)),
            Clock.systemUTC(),
            pools.webhookWriters());
    // Deliveries accepted before the HTTP server stopped are written before the database stops.
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseServiceStop(),
            "webhook-receipts",
            () ->
                CompletableFuture.supplyAsync(
                    () -> {
                      receipts.close();
                      return Done.getInstance();
                    }));
    return new Storage(
        database.tenantJdbc(),
        // In the database every node reaches: an accepted import survives the loss of its node.
        new PostgresUploadStore(
            database.tenantJdbc(),
            settings.intake().uploadRetention(),
            settings.intake().uploadQuotaBytes()),
        new ImportLedger(database.tenantJdbc()),
        new DncRepository(database.tenantJdbc(), database.dataSource()),
        new ResumableWorkRepository(database.dataSource()),
        receipts,
        // The send path's own connections, one per thread of its dispatcher.
        new ContactLedgerRepository(
            new TenantJdbc(database.newPool("outreach-sends", pools.sends(), false))),
        new CampaignReadModel(database.tenantJdbc()),
        new ProviderAccountRepository(
            database.tenantJdbc(),
            database.dataSource(),
            new SecretBox(SecretsKey.resolve(settings), settings.secrets().previousKeys()),
            Clock.systemUTC()),
        new SpendRepository(database.tenantJdbc(), Clock.systemUTC()),
        // Every projection writes through this pool, one connection per thread of its dispatcher.
        database.newPool("outreach-projections", pools.projections(), false));
  }
}
