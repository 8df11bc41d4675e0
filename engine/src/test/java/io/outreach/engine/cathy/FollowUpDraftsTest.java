package io.outreach.engine.cathy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What a drafted follow-up may be: a template of the first message's fields, not too long. */
class FollowUpDraftsTest {
  private static final String FIRST = "Hi {{first_name}}, our open house is on {{day}}";

  @Test
  void aDraftUsesOnlyTheFirstMessagesFieldsAndStaysShort() {
    assertThat(FollowUpDrafts.problem("Still on for {{day}}, {{first_name}}?", FIRST)).isNull();
    assertThat(FollowUpDrafts.problem("No fields at all", FIRST)).isNull();
    assertThat(FollowUpDrafts.problem("  ", FIRST)).contains("empty");
    assertThat(FollowUpDrafts.problem("x".repeat(FollowUpDrafts.MAX_TEXT + 1), FIRST))
        .contains("longer than");
    assertThat(FollowUpDrafts.problem("Dear {{last_name}} on {{day}}", FIRST))
        .contains("last_name")
        .doesNotContain("day");
    assertThat(FollowUpDrafts.problem("Hi {{first_name", FIRST)).startsWith("not a template");
  }
}
