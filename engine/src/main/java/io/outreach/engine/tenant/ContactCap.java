package io.outreach.engine.tenant;

import io.outreach.engine.CborSerializable;
import io.outreach.engine.compliance.FrequencyCap;
import java.time.Duration;

/**
 * A tenant's own frequency cap as settings hold it: at most {@code max} contacts of a person in any
 * {@code perHours} hours, across all campaigns and agents.
 */
public record ContactCap(int max, int perHours) implements CborSerializable {
  static final int MAX_HOURS = 24 * 31;

  String problem(int i) {
    if (max < 1 || max > 100) {
      return "frequencyCaps[" + i + "].max must be 1-100";
    }
    if (perHours < 1 || perHours > MAX_HOURS) {
      return "frequencyCaps[" + i + "].perHours must be 1-" + MAX_HOURS;
    }
    return null;
  }

  public FrequencyCap toCap() {
    return new FrequencyCap(max, Duration.ofHours(perHours));
  }
}
