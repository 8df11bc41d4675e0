package io.outreach.loadtest;

import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The baseline of the webhook benchmark: a Pekko HTTP server (same stack and version as the
 * engine's) that reads a form POST and answers 200, doing nothing else. Run in a process of its
 * own: {@code java -cp outreach-loadtest.jar io.outreach.loadtest.TrivialServer PORT}.
 */
public final class TrivialServer extends AllDirectives {
  private TrivialServer() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "trivial",
            ConfigFactory.parseString("pekko.loglevel = WARNING")
                .withFallback(ConfigFactory.load()));
    TrivialServer d = new TrivialServer();
    Route route = d.post(() -> d.formFieldMap(form -> d.complete("ok")));
    Http.get(system).newServerAt("127.0.0.1", port).bind(route).toCompletableFuture().get();
    System.out.println("trivial server on " + port);
    system.getWhenTerminated().toCompletableFuture().join();
  }
}
