package io.outreach.engine.campaign;

import java.util.List;
import java.util.Set;

/** Who the tenant has written to before (their first message carried the opt-out disclosure). */
public interface ContactHistory {

  /** Which of these numbers a campaign of the tenant has sent a message to. Blocking. */
  Set<String> contacted(String tenantId, List<String> phones);
}
