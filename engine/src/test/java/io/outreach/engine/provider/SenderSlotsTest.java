package io.outreach.engine.provider;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The cluster-wide start slots of one sender. */
class SenderSlotsTest {
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  @Test
  void slotsAreSpacedAndStayWithinTheHorizon() {
    SenderSlots slots = new SenderSlots(50, 0);
    SenderSlots.Assigned a = slots.assign(20, 0);
    assertThat(a.count()).isEqualTo(13); // 0 .. 240 ms; 260 ms is beyond the horizon
    assertThat(a.first()).as("an idle sender's first call goes at once").isZero();
    SenderSlots.Assigned b = slots.assign(10, 0);
    assertThat(b.count()).isZero();
    assertThat(b.retryIn().toMillis()).isEqualTo(10); // 260 ms - 250 ms
    assertThat(slots.assign(1, 200 * MS).first())
        .as("a busy sender's slot leaves time to get the grant to its call")
        .isEqualTo(260 * MS);
    assertThat(slots.assign(1, 400 * MS).first()).isEqualTo(430 * MS);
  }

  @Test
  void callsUnderWayFillTheRateUntilOneIsAnswered() {
    SenderSlots slots = new SenderSlots(2, 0);
    assertThat(slots.assign(1, 0).count()).isEqualTo(1);
    assertThat(slots.assign(1, 500 * MS).count()).isEqualTo(1);
    assertThat(slots.assign(1, 1000 * MS).count()).as("both still under way").isZero();
    assertThat(slots.answered(1010 * MS)).isTrue();
    SenderSlots.Assigned next = slots.assign(1, 1020 * MS);
    assertThat(next.count()).as("the answer counts for a second more").isZero();
    assertThat(slots.assign(1, 1700 * MS).count()).as("beyond the horizon").isZero();
    assertThat(slots.assign(1, 1800 * MS).first()).isEqualTo(2010 * MS);
    SenderSlots busy = new SenderSlots(2, 0);
    assertThat(busy.assign(1, 0).first()).isZero();
    assertThat(busy.assign(1, 3000 * MS).first())
        .as("a busy sender: never sooner than the lead")
        .isEqualTo(3030 * MS);
  }

  @Test
  void anUnusedSlotIsGivenAgainAndALostCallStopsCountingAfterTheDeadline() {
    SenderSlots slots = new SenderSlots(1, 0);
    assertThat(slots.assign(1, 0).first()).isZero();
    assertThat(slots.unused()).isTrue();
    assertThat(slots.assign(1, 0).first()).isZero();
    long deadline = SenderSlots.ANSWER_DEADLINE.toNanos();
    assertThat(slots.forgetAnswered(deadline - 1)).isZero();
    assertThat(slots.forgetAnswered(deadline)).isEqualTo(1);
    assertThat(slots.answered(deadline + 1)).as("its late report changes nothing").isFalse();
    assertThat(slots.assign(1, deadline + TimeUnit.SECONDS.toNanos(1)).count()).isEqualTo(1);
  }

  /**
   * Many requesters (nodes) with random answer times and random delays on the way: no second at the
   * provider ever holds more than the rate, and the rate is reached less the answer time.
   */
  @Test
  void noSecondAtTheProviderHoldsMoreThanTheRate() {
    int mps = 50;
    Random random = new Random(18);
    SenderSlots slots = new SenderSlots(mps, 0);
    // Reports (answer times) not yet delivered to the throttle.
    PriorityQueue<Long> reports = new PriorityQueue<>();
    List<Long> arrivals = new ArrayList<>();
    long end = TimeUnit.SECONDS.toNanos(20);
    for (long now = 0; now < end; now += MS * (1 + random.nextInt(10))) {
      while (!reports.isEmpty() && reports.peek() <= now) {
        reports.poll();
        slots.answered(now);
      }
      SenderSlots.Assigned a = slots.assign(1 + random.nextInt(8), now);
      for (int i = 0; i < a.count(); i++) {
        long departs = a.first() + i * (TimeUnit.SECONDS.toNanos(1) / mps) + random.nextInt(5) * MS;
        long arrives = departs + random.nextInt(20) * MS;
        arrivals.add(arrives);
        reports.add(arrives + random.nextInt(10) * MS);
      }
    }
    arrivals.sort(Long::compare);
    int worst = 0;
    for (int i = 0, j = 0; i < arrivals.size(); i++) {
      while (arrivals.get(i) - arrivals.get(j) >= TimeUnit.SECONDS.toNanos(1)) {
        j++;
      }
      worst = Math.max(worst, i - j + 1);
    }
    assertThat(worst).isLessThanOrEqualTo(mps);
    assertThat(arrivals.size()).as("calls in 20 s").isGreaterThan(20 * mps * 9 / 10);
  }
}
