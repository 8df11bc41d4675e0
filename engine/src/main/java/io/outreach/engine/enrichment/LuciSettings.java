package io.outreach.engine.enrichment;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * LUCI's settings ({@code outreach.luci}, see reference.conf): how long an enrichment stays good in
 * the tenant's cache ({@code cache-ttl}, 90 days unless set), and the most lead ids one request may
 * name ({@code max-lead-ids}). A bad value fails at start naming its key.
 */
public record LuciSettings(Duration cacheTtl, int maxLeadIds) {

  public static LuciSettings from(Config root) {
    Config c = root.getConfig("outreach.luci");
    Duration ttl = c.getDuration("cache-ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new ConfigException.BadValue(
          "outreach.luci.cache-ttl", "(OUTREACH_ENRICHMENT_CACHE_TTL) must be positive");
    }
    int max = c.getInt("max-lead-ids");
    if (max < 1) {
      throw new ConfigException.BadValue(
          "outreach.luci.max-lead-ids", "(OUTREACH_ENRICHMENT_MAX_LEAD_IDS) must be at least 1");
    }
    return new LuciSettings(ttl, max);
  }
}
