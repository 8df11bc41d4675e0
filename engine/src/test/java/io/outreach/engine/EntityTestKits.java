package io.outreach.engine;

import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/**
 * The actor system every entity test runs in: the persistence testkit's in-memory journal with our
 * own serialization bindings, so each command, event and state is checked to round-trip.
 */
public final class EntityTestKits {
  private EntityTestKits() {}

  public static ActorTestKit create() {
    return ActorTestKit.create(
        ConfigFactory.parseResources("serialization.conf")
            .withFallback(EventSourcedBehaviorTestKit.config())
            .resolve());
  }
}
