package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.outreach.loadtest.FaultSuite;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fault suite's short version ({@link FaultSuite.Plan#quick}) on the engine jar this build
 * made: the engine, its PostgreSQL and the sandbox as processes; a SIGKILL, PostgreSQL stopped and
 * a provider answering 500 to half the calls, each during a campaign of its own under inbound load.
 * The full suite is {@code java -jar loadtest/target/outreach-loadtest.jar faults}.
 *
 * <p>Every row is held to the whole ledger check ({@link FaultSuite.Row#clean}).
 */
class FaultSuiteIT {
  @Test
  void underEachFaultNothingIsLostOrDuplicatedAndTheFourAccountsAgree() throws Exception {
    FaultSuite.Plan plan = FaultSuite.Plan.quick(JarProcess.JAR);

    List<FaultSuite.Row> rows = FaultSuite.run(plan);

    String table = FaultSuite.table(rows);
    assertThat(rows).hasSameSizeAs(plan.faults());
    for (FaultSuite.Row row : rows) {
      assertThat(row.lost()).as("lost under %s%n%s", row.fault(), table).isZero();
      assertThat(row.duplicated()).as("duplicated under %s%n%s", row.fault(), table).isZero();
      assertThat(row.ineligible()).as("ineligible under %s%n%s", row.fault(), table).isZero();
      assertThat(row.overrunMicros()).as("overrun under %s%n%s", row.fault(), table).isZero();
      assertThat(row.clean()).as("%s%n%s", row.fault(), table).isTrue();
      assertThat(row.sendsBefore())
          .as("%s struck mid-campaign%n%s", row.fault(), table)
          .isPositive();
      assertThat(row.sendsAfter())
          .as("%s struck mid-campaign%n%s", row.fault(), table)
          .isPositive();
      assertThat(row.repliesTaken())
          .as("inbound load during %s%n%s", row.fault(), table)
          .isPositive();
    }
  }
}
