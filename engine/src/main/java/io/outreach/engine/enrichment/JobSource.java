package io.outreach.engine.enrichment;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.outreach.engine.CborSerializable;
import java.util.List;
import java.util.UUID;

/** The leads an enrichment job covers: named ones ({@code leadIds}), or one import's. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobSource(List<UUID> leadIds, String importId) implements CborSerializable {

  public JobSource {
    leadIds = leadIds == null ? null : List.copyOf(leadIds);
  }

  public static JobSource leads(List<UUID> ids) {
    return new JobSource(ids, null);
  }

  public static JobSource fromImport(String importId) {
    return new JobSource(null, importId);
  }
}
