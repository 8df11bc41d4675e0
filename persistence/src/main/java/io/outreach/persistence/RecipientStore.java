package io.outreach.persistence;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.outreach.engine.campaign.CampaignDefinition;
import io.outreach.engine.campaign.CampaignEntity;
import io.outreach.engine.campaign.Recipient;
import io.outreach.engine.campaign.Recipients;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Campaign recipients: the audience snapshot taken at launch, read back one block at a time. */
public final class RecipientStore implements Recipients {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<Map<String, String>> FIELDS = new TypeReference<>() {};

  private final TenantJdbc tenantJdbc;

  public RecipientStore(TenantJdbc tenantJdbc) {
    this.tenantJdbc = tenantJdbc;
  }

  /** The recipient columns of a lead, as a snapshot copies them (fields for the templates). */
  private static final String RECIPIENT_OF_LEAD =
      "lead_id, phone, timezones, state,"
          + " jsonb_strip_nulls(jsonb_build_object('first_name', first_name, 'last_name', last_name,"
          + " 'company', company, 'city', city, 'state', state, 'zip', zip, 'email', email,"
          + " 'phone', phone)) || (select coalesce(jsonb_object_agg(k, v), '{}'::jsonb)"
          + " from jsonb_each_text(attributes) a(k, v))";

  /** An enrichment's audience: the leads it matched or found in the cache (two parameters). */
  private static final String ENRICHED =
      " and (?::text is null or lead_id in (select lead_id from enrichment_job_leads where"
          + " job_id = ? and outcome in ('matched', 'cached')))";

  /**
   * Copies the audience's leads into recipients, numbered in lead order, in one statement; a second
   * call finds the snapshot and answers its size without copying again.
   */
  @Override
  public long snapshot(String tenantId, String campaignId, CampaignDefinition.Audience audience) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("select count(*) from recipients where campaign_id = ?")) {
            ps.setString(1, campaignId);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              if (rs.getLong(1) > 0) {
                return rs.getLong(1);
              }
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "insert into recipients (tenant_id, campaign_id, recipient_no, lead_id, phone, timezones,"
                      + " state, fields)"
                      + " select tenant_id, ?, row_number() over (order by seq) - 1, "
                      + RECIPIENT_OF_LEAD
                      + " from leads where (?::text is null or import_id = ?)"
                      + ENRICHED)) {
            ps.setString(1, campaignId);
            ps.setString(2, audience.importId());
            ps.setString(3, audience.importId());
            ps.setString(4, audience.enrichmentId());
            ps.setString(5, audience.enrichmentId());
            return (long) ps.executeUpdate();
          }
        });
  }

  /** Whether the campaign's audience has been snapshotted (it was launched). */
  @Override
  public boolean snapshotted(String tenantId, String campaignId) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select exists (select 1 from recipients where campaign_id = ?)")) {
            ps.setString(1, campaignId);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getBoolean(1);
            }
          }
        });
  }

  /**
   * A page of the recipients a snapshot of {@code audience} would take now, without taking it:
   * leads in snapshot order after lead position {@code afterSeq}, numbered from {@code firstNo}.
   * Answers the page and the position to continue after.
   */
  @Override
  public Page audiencePage(
      String tenantId,
      CampaignDefinition.Audience audience,
      long afterSeq,
      long firstNo,
      int limit) {
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select seq, "
                      + RECIPIENT_OF_LEAD
                      + "::text from leads"
                      + " where (?::text is null or import_id = ?)"
                      + ENRICHED
                      + " and seq > ? order by seq limit ?")) {
            ps.setString(1, audience.importId());
            ps.setString(2, audience.importId());
            ps.setString(3, audience.enrichmentId());
            ps.setString(4, audience.enrichmentId());
            ps.setLong(5, afterSeq);
            ps.setInt(6, limit);
            List<Recipient> out = new ArrayList<>();
            long last = afterSeq;
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                last = rs.getLong(1);
                java.sql.Array zones = rs.getArray(4);
                out.add(
                    new Recipient(
                        firstNo + out.size(),
                        rs.getString(2),
                        rs.getString(3),
                        zones == null ? List.of() : List.of((String[]) zones.getArray()),
                        rs.getString(5),
                        JSON.readValue(rs.getString(6), FIELDS)));
              }
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
            return new Page(out, last);
          }
        });
  }

  /** Block {@code block}'s recipients, in recipient order. */
  @Override
  public List<Recipient> block(String tenantId, String campaignId, int block) {
    long from = (long) block * CampaignEntity.BLOCK_SIZE;
    return tenantJdbc.inTenant(
        tenantId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "select recipient_no, lead_id::text, phone, timezones, state, fields::text from recipients"
                      + " where campaign_id = ? and recipient_no >= ? and recipient_no < ?"
                      + " order by recipient_no")) {
            ps.setString(1, campaignId);
            ps.setLong(2, from);
            ps.setLong(3, from + CampaignEntity.BLOCK_SIZE);
            List<Recipient> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                java.sql.Array zones = rs.getArray(4);
                out.add(
                    new Recipient(
                        rs.getLong(1),
                        rs.getString(2),
                        rs.getString(3),
                        zones == null ? List.of() : List.of((String[]) zones.getArray()),
                        rs.getString(5),
                        JSON.readValue(rs.getString(6), FIELDS)));
              }
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
            return out;
          }
        });
  }
}
