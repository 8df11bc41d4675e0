package io.outreach.persistence;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.outreach.engine.tenant.TenantEntity;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;

/**
 * Writes one Tenant event into {@code tenants} and {@code audit_log}, inside the projection's
 * transaction and bound to the event's tenant, so row-level security checks these writes too.
 */
public final class TenantProjectionHandler
    extends JdbcHandler<EventEnvelope<TenantEntity.Event>, HikariJdbcSession> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public void process(HikariJdbcSession session, EventEnvelope<TenantEntity.Event> envelope)
      throws Exception {
    TenantEntity.Event event = envelope.event();
    Projections.inTenantOf(
        session,
        envelope.persistenceId(),
        (c, tenantId) -> {
          apply(c, tenantId, event);
          audit(c, tenantId, event);
        });
  }

  private static void apply(Connection c, String tenantId, TenantEntity.Event event)
      throws SQLException {
    Timestamp at = Timestamp.from(event.at());
    if (event instanceof TenantEntity.Created e) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "insert into tenants (tenant_id, name, timezone, monthly_budget_cents, status,"
                  + " created_at, updated_at) values (?, ?, ?, ?, 'active', ?, ?)"
                  + " on conflict (tenant_id) do nothing")) {
        ps.setString(1, tenantId);
        ps.setString(2, e.name());
        ps.setString(3, e.timezone());
        ps.setLong(4, e.monthlyBudgetCents());
        ps.setTimestamp(5, at);
        ps.setTimestamp(6, at);
        ps.executeUpdate();
      }
    } else if (event instanceof TenantEntity.SettingsUpdated e) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "update tenants set name = coalesce(?, name), timezone = coalesce(?, timezone),"
                  + " monthly_budget_cents = coalesce(?, monthly_budget_cents),"
                  + " settings = settings || ?::jsonb, updated_at = ? where tenant_id = ?")) {
        ps.setString(1, e.patch().name() == null ? null : e.patch().name().trim());
        ps.setString(2, e.patch().timezone());
        ps.setObject(3, e.patch().monthlyBudgetCents());
        ObjectNode settings = JSON.createObjectNode();
        if (e.patch().agentPolicies() != null) {
          settings.set("agentPolicies", JSON.valueToTree(e.patch().agentPolicies()));
        }
        if (e.patch().flags() != null) {
          settings.set("flags", JSON.valueToTree(e.patch().flags()));
        }
        if (e.patch().senders() != null) {
          settings.set("senders", JSON.valueToTree(e.patch().senders()));
        }
        ps.setString(4, settings.toString());
        ps.setTimestamp(5, at);
        ps.setString(6, tenantId);
        ps.executeUpdate();
      }
    } else if (event instanceof TenantEntity.Suspended || event instanceof TenantEntity.Resumed) {
      String status = event instanceof TenantEntity.Suspended ? "suspended" : "active";
      try (PreparedStatement ps =
          c.prepareStatement("update tenants set status = ?, updated_at = ? where tenant_id = ?")) {
        ps.setString(1, status);
        ps.setTimestamp(2, at);
        ps.setString(3, tenantId);
        ps.executeUpdate();
      }
    }
  }

  private static void audit(Connection c, String tenantId, TenantEntity.Event event)
      throws SQLException {
    String action;
    ObjectNode detail = JSON.createObjectNode();
    if (event instanceof TenantEntity.Created e) {
      action = "tenant.created";
      detail.put("name", e.name()).put("timezone", e.timezone());
      detail.put("monthlyBudgetCents", e.monthlyBudgetCents());
    } else if (event instanceof TenantEntity.SettingsUpdated e) {
      action = "tenant.settings-updated";
      detail.set("changes", JSON.valueToTree(e.patch()));
    } else if (event instanceof TenantEntity.Suspended e) {
      action = "tenant.suspended";
      detail.put("reason", e.reason());
    } else if (event instanceof TenantEntity.KillSwitchEngaged e) {
      action = "kill-switch.engaged";
      detail.put("id", e.killSwitch().id()).put("scope", e.killSwitch().scope().code());
      detail.put("target", e.killSwitch().target());
    } else if (event instanceof TenantEntity.KillSwitchReleased e) {
      action = "kill-switch.released";
      detail.put("id", e.id());
    } else if (event instanceof TenantEntity.Resumed) {
      action = "tenant.resumed";
    } else {
      throw new IllegalArgumentException("no audit entry for " + event.getClass().getSimpleName());
    }
    AuditRepository.insert(
        c, tenantId, event.at(), event.actor(), action, tenantId, detail.toString());
  }
}
