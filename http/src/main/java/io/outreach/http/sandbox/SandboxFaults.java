package io.outreach.http.sandbox;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Faults the twins inject, set with {@code PUT /sandbox/faults}. A missing member takes its default
 * (0, false, none, and {@code receipts} true), so {@code {}} clears every fault.
 *
 * @param latencyMs added before each provider answer
 * @param errorRate the share (0..1) of provider calls answered with a random 500
 * @param rateLimitPerSecond provider calls allowed per second (token bucket); 0 is unlimited,
 *     excess calls get 429 with {@code Retry-After: 1}
 * @param outage every provider call gets 503
 * @param undeliveredRate the share (0..1) of accepted messages whose last receipt is a failure
 *     (Twilio: {@code undelivered}, ErrorCode 30003, after {@code sent}; SignalHouse: {@code
 *     MESSAGE_FAILED}) instead of a delivery
 * @param receipts whether accepted messages get receipts at all; false accepts them and posts
 *     nothing, as when a provider loses its callbacks
 * @param dncNumbers numbers on the SignalHouse twin's do-not-contact list: a send to one is
 *     answered 201 with the number in {@code dncBlockedNumbers} and nothing enqueued
 * @param optedOutNumbers numbers that opted out of the SignalHouse twin's campaign: a send to one
 *     is answered 201 with a {@code FAILED} message of {@code errorCode} {@code OUT}
 * @param rateLimitNext the next this many provider calls (any provider) are answered 429 with
 *     {@code Retry-After: 1}, whatever the rate: a scripted throttle that does not depend on timing
 *     (setting the faults again starts the count again)
 * @param reorderReceipts Twilio's receipts of messages accepted from now on arrive out of order:
 *     the last one ({@code delivered}/{@code undelivered}) first, then {@code sent} (each receipt's
 *     {@code SequenceNumber}-less form data as Twilio sends it; the engine must keep the terminal
 *     status)
 * @param replayWebhooks every receipt and reply the engine answered with a 2xx is posted again at
 *     once, the identical signed request (as a provider's retry after a lost answer, or a captured
 *     request replayed): the engine must answer it and change nothing
 */
public record SandboxFaults(
    long latencyMs,
    double errorRate,
    int rateLimitPerSecond,
    boolean outage,
    double undeliveredRate,
    boolean receipts,
    List<String> dncNumbers,
    List<String> optedOutNumbers,
    int rateLimitNext,
    boolean reorderReceipts,
    boolean replayWebhooks) {

  public static final SandboxFaults NONE =
      new SandboxFaults(0, 0, 0, false, 0, true, List.of(), List.of(), 0, false, false);

  /** The most numbers each list may hold: it is scanned on every send. */
  static final int MAX_NUMBERS = 1_000;

  public SandboxFaults {
    dncNumbers = List.copyOf(dncNumbers);
    optedOutNumbers = List.copyOf(optedOutNumbers);
  }

  /**
   * The body of {@code PUT /sandbox/faults}: boxed so a member may be left out (the API's strict
   * mapper refuses a missing primitive).
   */
  record Body(
      Long latencyMs,
      Double errorRate,
      Integer rateLimitPerSecond,
      Boolean outage,
      Double undeliveredRate,
      Boolean receipts,
      List<String> dncNumbers,
      List<String> optedOutNumbers,
      Integer rateLimitNext,
      Boolean reorderReceipts,
      Boolean replayWebhooks) {
    SandboxFaults toFaults() {
      return new SandboxFaults(
          latencyMs == null ? 0 : latencyMs,
          errorRate == null ? 0 : errorRate,
          rateLimitPerSecond == null ? 0 : rateLimitPerSecond,
          outage != null && outage,
          undeliveredRate == null ? 0 : undeliveredRate,
          receipts == null || receipts,
          numbers(dncNumbers),
          numbers(optedOutNumbers),
          rateLimitNext == null ? 0 : rateLimitNext,
          reorderReceipts != null && reorderReceipts,
          replayWebhooks != null && replayWebhooks);
    }

    /** A missing list is empty; a null in one is no number (and refused as such). */
    private static List<String> numbers(List<String> given) {
      return given == null ? List.of() : given.stream().map(n -> n == null ? "" : n).toList();
    }
  }

  /** What is wrong with these values, or null when they are usable. */
  String problem() {
    if (latencyMs < 0 || latencyMs > 60_000) {
      return "latencyMs must be between 0 and 60000";
    }
    if (!(errorRate >= 0 && errorRate <= 1)) {
      return "errorRate must be between 0 and 1";
    }
    if (rateLimitPerSecond < 0) {
      return "rateLimitPerSecond must be 0 (unlimited) or more";
    }
    if (rateLimitNext < 0 || rateLimitNext > 10_000) {
      return "rateLimitNext must be between 0 and 10000";
    }
    if (!(undeliveredRate >= 0 && undeliveredRate <= 1)) {
      return "undeliveredRate must be between 0 and 1";
    }
    String dnc = numbersProblem("dncNumbers", dncNumbers);
    return dnc != null ? dnc : numbersProblem("optedOutNumbers", optedOutNumbers);
  }

  private static String numbersProblem(String field, List<String> numbers) {
    if (numbers.size() > MAX_NUMBERS) {
      return field + " may hold at most " + MAX_NUMBERS + " numbers";
    }
    for (String n : numbers) {
      if (SignalHouseTwin.digits(n) == null) {
        return field + " must hold phone numbers (digits, an optional leading +)";
      }
    }
    return null;
  }

  /** Draws whether one accepted message's last receipt is a failure, at {@code undeliveredRate}. */
  boolean drawUndelivered() {
    return undeliveredRate > 0 && ThreadLocalRandom.current().nextDouble() < undeliveredRate;
  }

  /** Whether {@code digits} (a number as SignalHouse writes it) is on the twin's DNC list. */
  boolean onDncList(String digits) {
    return contains(dncNumbers, digits);
  }

  /** Whether {@code digits} opted out of the twin's campaign. */
  boolean optedOut(String digits) {
    return contains(optedOutNumbers, digits);
  }

  private static boolean contains(List<String> numbers, String digits) {
    for (String n : numbers) {
      if (digits.equals(SignalHouseTwin.digits(n))) {
        return true;
      }
    }
    return false;
  }
}
