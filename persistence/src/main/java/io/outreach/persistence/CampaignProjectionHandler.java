package io.outreach.persistence;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.cathy.FollowUpDrafts;
import io.outreach.engine.cathy.FollowUpReviews;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;

/**
 * Writes Campaign events into the {@code campaigns} list and the audit trail (who created,
 * launched, paused, resumed or cancelled a campaign, and when it completed), and the follow-ups
 * Cathy drafted for it into the audit trail and, those waiting for a human, the review queue.
 */
public final class CampaignProjectionHandler
    extends JdbcHandler<EventEnvelope<CampaignEntity.Event>, HikariJdbcSession> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public void process(HikariJdbcSession session, EventEnvelope<CampaignEntity.Event> envelope)
      throws Exception {
    String campaignId =
        envelope.persistenceId().substring(envelope.persistenceId().indexOf(':') + 1);
    Instant at = Instant.ofEpochMilli(envelope.timestamp());
    Projections.inTenantOf(
        session,
        envelope.persistenceId(),
        (c, tenantId) -> apply(c, tenantId, campaignId, envelope.event(), at));
  }

  private static void apply(
      Connection c, String tenantId, String campaignId, CampaignEntity.Event event, Instant at)
      throws SQLException {
    if (event instanceof CampaignEntity.Created e) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "insert into campaigns (tenant_id, campaign_id, name, channel, state, created_at, start_at, updated_at)"
                  + " values (?, ?, ?, ?, 'draft', ?, ?, ?) on conflict do nothing")) {
        ps.setString(1, tenantId);
        ps.setString(2, campaignId);
        ps.setString(3, e.definition().name());
        ps.setString(4, e.definition().channel().name().toLowerCase(Locale.ROOT));
        ps.setTimestamp(5, Timestamp.from(e.at()));
        ps.setTimestamp(
            6, e.definition().startAt() == null ? null : Timestamp.from(e.definition().startAt()));
        ps.setTimestamp(7, Timestamp.from(at));
        ps.executeUpdate();
      }
      audit(
          c,
          tenantId,
          campaignId,
          e.actor(),
          "campaign.created",
          at,
          JSON.createObjectNode().put("name", e.definition().name()));
      drafted(c, tenantId, campaignId, e.definition(), e.at());
      return;
    }
    String state = null;
    String actor = null;
    String action = null;
    ObjectNode detail = JSON.createObjectNode();
    if (event instanceof CampaignEntity.Scheduled e) {
      state = "scheduled";
      actor = e.actor();
      action = "campaign.scheduled";
      detail.put("startAt", e.startAt().toString());
    } else if (event instanceof CampaignEntity.LaunchStarted e) {
      state = "running";
      actor = e.actor();
      action = "campaign.launched";
    } else if (event instanceof CampaignEntity.Planned e) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "update campaigns set recipients = ?, updated_at = ? where campaign_id = ?")) {
        ps.setLong(1, e.recipients());
        ps.setTimestamp(2, Timestamp.from(at));
        ps.setString(3, campaignId);
        ps.executeUpdate();
      }
      return;
    } else if (event instanceof CampaignEntity.Paused e) {
      state = "paused";
      actor = e.actor();
      action = "campaign.paused";
    } else if (event instanceof CampaignEntity.Resumed e) {
      state = "running";
      actor = e.actor();
      action = "campaign.resumed";
    } else if (event instanceof CampaignEntity.Cancelled e) {
      state = "cancelled";
      actor = e.actor();
      action = "campaign.cancelled";
    } else if (event instanceof CampaignEntity.Completed) {
      state = "completed";
      actor = "engine";
      action = "campaign.completed";
    }
    if (state == null) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "update campaigns set state = ?, updated_at = ? where campaign_id = ?")) {
      ps.setString(1, state);
      ps.setTimestamp(2, Timestamp.from(at));
      ps.setString(3, campaignId);
      ps.executeUpdate();
    }
    audit(c, tenantId, campaignId, actor, action, at, detail);
  }

  /**
   * The follow-ups Cathy drafted for a new campaign: each in the audit trail (the brief in, the
   * text out, who drafted it, and whether it waits for a human), and each that waits in the review
   * queue, in this same transaction.
   */
  private static void drafted(
      Connection c, String tenantId, String campaignId, CampaignDefinition d, Instant at)
      throws SQLException {
    List<CampaignDefinition.FollowUpStep> steps = d.steps() == null ? List.of() : d.steps();
    for (int i = 0; i < steps.size(); i++) {
      CampaignDefinition.FollowUpStep step = steps.get(i);
      if (step.drafter() == null) {
        continue;
      }
      if (step.review() != null) {
        ReviewRepository.insert(c, tenantId, FollowUpReviews.request(campaignId, d, i, step), at);
      }
      ObjectNode detail =
          JSON.createObjectNode()
              .put("step", i + 1)
              .put("input", step.brief())
              .put("output", step.message())
              .put("drafter", step.drafter())
              .put("action", step.review() == null ? "send" : "review");
      if (step.review() != null) {
        detail.put("review", step.review());
      }
      audit(c, tenantId, campaignId, "agent:" + FollowUpDrafts.AGENT, "cathy.drafted", at, detail);
    }
  }

  private static void audit(
      Connection c,
      String tenantId,
      String campaignId,
      String actor,
      String action,
      Instant at,
      ObjectNode detail)
      throws SQLException {
    AuditRepository.insert(c, tenantId, at, actor, action, campaignId, detail.toString());
  }
}
