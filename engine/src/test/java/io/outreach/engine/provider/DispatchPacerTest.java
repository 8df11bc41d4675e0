package io.outreach.engine.provider;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The pacer's guarantees: they are lower bounds on time (never early), so they hold on any machine.
 */
class DispatchPacerTest {
  private static final long MS = 1_000_000;

  @Test
  void theKthCallLeavesNoSoonerThanKOverMpsAfterTheFirst() throws Exception {
    DispatchPacer pacer = new DispatchPacer();
    long start = System.nanoTime();
    for (int k = 0; k < 10; k++) {
      DispatchPacer.Turn turn = pacer.await("+15550100001", 20, Duration.ofSeconds(2));
      assertThat(turn).isNotNull();
      assertThat(System.nanoTime() - start).as("call %d", k).isGreaterThanOrEqualTo(k * 50 * MS);
      turn.ended();
    }
  }

  @Test
  void whileMpsCallsCountTheNextWaitsForAnAnswerAndASecondMore() throws Exception {
    DispatchPacer pacer = new DispatchPacer();
    List<DispatchPacer.Turn> open = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      open.add(pacer.await("+15550100002", 5, Duration.ofSeconds(2)));
    }
    // All five slots hold calls without an answer: a sixth gets no turn, however long it may wait.
    assertThat(pacer.await("+15550100002", 5, Duration.ofMillis(400))).isNull();
    long answered = System.nanoTime();
    open.get(0).ended();
    DispatchPacer.Turn sixth = pacer.await("+15550100002", 5, Duration.ofSeconds(3));
    assertThat(sixth).isNotNull();
    assertThat(System.nanoTime() - answered).isGreaterThanOrEqualTo(1_000 * MS);
  }

  @Test
  void aTurnThatCannotComeWithinTheDeadlineIsRefusedAtOnce() throws Exception {
    DispatchPacer pacer = new DispatchPacer();
    pacer.await("+15550100003", 1, Duration.ZERO).ended();
    long asked = System.nanoTime();
    assertThat(pacer.await("+15550100003", 1, Duration.ofMillis(200))).isNull();
    assertThat(System.nanoTime() - asked).as("no pointless wait").isLessThan(150 * MS);
  }

  @Test
  void endingATurnTwiceDoesNotFreeALaterCallsSlot() throws Exception {
    DispatchPacer pacer = new DispatchPacer();
    DispatchPacer.Turn first = pacer.await("+15550100004", 1, Duration.ZERO);
    first.ended();
    DispatchPacer.Turn second = pacer.await("+15550100004", 1, Duration.ofSeconds(3));
    assertThat(second).isNotNull();
    first.ended();
    assertThat(pacer.await("+15550100004", 1, Duration.ofMillis(1_300)))
        .as("the second call is still open")
        .isNull();
  }

  @Test
  void aSenderWithoutARateIsNotPaced() throws Exception {
    DispatchPacer pacer = new DispatchPacer();
    for (int i = 0; i < 1_000; i++) {
      assertThat(pacer.await("+15550100005", 0, Duration.ZERO)).isNotNull();
    }
  }

  /**
   * Calls that travel for a random time before they arrive and are answered later still: however
   * the delays fall, no one second at the provider holds more than {@code mps} arrivals.
   */
  @Test
  void noSecondAtTheProviderHoldsMoreThanMpsWhateverTheDelays() throws Exception {
    int mps = 25;
    DispatchPacer pacer = new DispatchPacer();
    List<Long> arrivals = Collections.synchronizedList(new ArrayList<>());
    ScheduledExecutorService network = Executors.newScheduledThreadPool(2);
    ExecutorService callers = Executors.newFixedThreadPool(4);
    long until = System.nanoTime() + 3_000 * MS;
    for (int c = 0; c < 4; c++) {
      callers.submit(
          () -> {
            while (System.nanoTime() < until) {
              DispatchPacer.Turn turn = pacer.await("+15550100006", mps, Duration.ofMillis(500));
              if (turn == null) {
                continue;
              }
              ThreadLocalRandom r = ThreadLocalRandom.current();
              // Now and then a call is held up on its way for up to 300 ms (a pause, a cold path).
              long travel = r.nextInt(10) == 0 ? r.nextLong(300 * MS) : r.nextLong(3 * MS);
              long back = r.nextLong(5 * MS);
              network.schedule(
                  () -> {
                    arrivals.add(System.nanoTime());
                    network.schedule(
                        turn::ended, back, TimeUnit.NANOSECONDS); // answered after it arrived
                  },
                  travel,
                  TimeUnit.NANOSECONDS);
            }
            return null;
          });
    }
    callers.shutdown();
    assertThat(callers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    network.shutdown();
    assertThat(network.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    List<Long> at = new ArrayList<>(arrivals);
    Collections.sort(at);
    assertThat(at.size()).as("calls made in 3 s at %d mps", mps).isGreaterThan(2 * mps);
    int worst = 0;
    for (int i = 0, j = 0; i < at.size(); i++) {
      while (at.get(i) - at.get(j) >= 1_000 * MS) {
        j++;
      }
      worst = Math.max(worst, i - j + 1);
    }
    assertThat(worst).as("most arrivals in one second").isLessThanOrEqualTo(mps);
  }
}
