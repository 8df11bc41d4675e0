package io.outreach.http;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/** The system clock shifted by an offset the test moves (time still flows). */
final class MovableClock extends Clock {
  private final AtomicReference<Duration> offset = new AtomicReference<>(Duration.ZERO);

  /** A clock whose now is {@code at} (and flows on from there). */
  static MovableClock at(Instant at) {
    MovableClock c = new MovableClock();
    c.offset.set(Duration.between(Instant.now(), at));
    return c;
  }

  void advance(Duration d) {
    offset.updateAndGet(o -> o.plus(d));
  }

  Duration offset() {
    return offset.get();
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return Instant.now().plus(offset.get());
  }
}
