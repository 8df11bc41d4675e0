package io.outreach.persistence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.outreach.engine.enrichment.EnrichedPerson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.UUID;

/**
 * What an enrichment writes to a lead and to the tenant's enrichment cache, on a connection already
 * bound to the tenant. A lead's fields are filled only where they are empty: its email, names,
 * company, city and US state, and the attributes {@code title} and {@code linkedin_url} when it has
 * no attribute of that name; its phone (its identity), time zones and consent are never touched.
 *
 * <p>The cache is keyed by the lead's identity as the tenant's dedup rule has it ({@link
 * #IDENTITY}: its E.164 phone, or its email when it has no phone), which filling empty fields never
 * changes, so an enriched lead is found again however much of it was filled.
 */
final class LeadEnrichment {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The identity of lead row {@code l}, the cache's key. */
  static final String IDENTITY =
      "(case when l.phone is not null then 'p:' || l.phone else 'e:' || l.email end)";

  /** Whether lead row {@code l} can be matched: an email, or first and last name and company. */
  static final String MATCHABLE =
      "(l.email is not null or (l.first_name is not null and l.last_name is not null"
          + " and l.company is not null))";

  private LeadEnrichment() {}

  /** Fills the empty fields of lead {@code leadId} with what was found of the person. */
  static void fill(Connection c, UUID leadId, EnrichedPerson p, Instant now) throws SQLException {
    ObjectNode attributes = JSON.createObjectNode();
    if (p.title() != null) {
      attributes.put("title", p.title());
    }
    if (p.linkedinUrl() != null) {
      attributes.put("linkedin_url", p.linkedinUrl());
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "update leads set email = coalesce(nullif(email, ''), ?),"
                + " first_name = coalesce(nullif(first_name, ''), ?),"
                + " last_name = coalesce(nullif(last_name, ''), ?),"
                + " company = coalesce(nullif(company, ''), ?),"
                + " city = coalesce(nullif(city, ''), ?),"
                + " state = coalesce(nullif(state, ''), ?),"
                + " attributes = ?::jsonb || attributes, updated_at = ?"
                + " where lead_id = ?")) {
      ps.setString(1, p.email());
      ps.setString(2, p.firstName());
      ps.setString(3, p.lastName());
      ps.setString(4, p.organizationName());
      ps.setString(5, p.city());
      ps.setString(6, p.state());
      ps.setString(7, attributes.toString());
      ps.setTimestamp(8, Timestamp.from(now));
      ps.setObject(9, leadId);
      ps.executeUpdate();
    }
  }

  /**
   * Caches what the provider answered for lead {@code leadId}'s identity ({@code person} null: it
   * found nobody); a lead erased meanwhile caches nothing.
   */
  static void cache(
      Connection c, String jobId, UUID leadId, EnrichedPerson person, String provider, Instant now)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into enrichment_cache (tenant_id, identity, provider, found, person,"
                + " enriched_at, job_id) select l.tenant_id, "
                + IDENTITY
                + ", ?, ?, ?::jsonb, ?, ? from leads l where l.lead_id = ?"
                + " on conflict (tenant_id, identity) do update set provider = excluded.provider,"
                + " found = excluded.found, person = excluded.person, enriched_at ="
                + " excluded.enriched_at, job_id = excluded.job_id")) {
      ps.setString(1, provider);
      ps.setBoolean(2, person != null);
      ps.setString(3, person == null ? null : json(person));
      ps.setTimestamp(4, Timestamp.from(now));
      ps.setString(5, jobId);
      ps.setObject(6, leadId);
      ps.executeUpdate();
    }
  }

  static EnrichedPerson person(String json) {
    try {
      return JSON.readValue(json, EnrichedPerson.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a cached enrichment is not readable", e);
    }
  }

  private static String json(EnrichedPerson p) {
    try {
      return JSON.writeValueAsString(p);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
