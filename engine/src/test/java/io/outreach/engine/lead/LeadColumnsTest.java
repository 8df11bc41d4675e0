package io.outreach.engine.lead;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which header columns are known, which are attributes, and which headers are useless. */
class LeadColumnsTest {

  @Test
  void findsKnownColumnsAndKeepsTheRestAsAttributes() {
    LeadColumns columns = LeadColumns.of(List.of("plan", "email", "", "first_name", "phone", "x"));
    assertThat(columns.size()).isEqualTo(6);
    assertThat(columns.emailIndex()).isEqualTo(1);
    assertThat(columns.firstNameIndex()).isEqualTo(3);
    assertThat(columns.phoneIndex()).isEqualTo(4);
    assertThat(columns.lastNameIndex()).isEqualTo(-1);
    assertThat(columns.consentAtIndex()).isEqualTo(-1);
    assertThat(columns.attributeNames()).containsExactly("plan", "x");
    assertThat(columns.headerProblem()).isEmpty();
  }

  @Test
  void aHeaderWithoutPhoneOrEmailIsAProblem() {
    assertThat(LeadColumns.of(List.of("a", "b", "c")).headerProblem())
        .contains("the header must have a phone or an email column (found: a, b, c)");
    assertThat(LeadColumns.of(List.of("email")).headerProblem()).isEmpty();
    assertThat(LeadColumns.of(List.of("phone")).headerProblem()).isEmpty();
  }
}
