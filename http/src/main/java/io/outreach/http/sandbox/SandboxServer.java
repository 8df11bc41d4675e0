package io.outreach.http.sandbox;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.outreach.http.ApiServer;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * Serves only the sandbox twins, for the standalone {@code sandbox} command and for tests, behind
 * the same request wrapper as the engine (problem+json errors, access log). Its metrics go to a
 * private registry: a standalone twin has no {@code /metrics}.
 */
public final class SandboxServer {
  private SandboxServer() {}

  /** Binds the twins with the default sandbox credentials; unbinds on coordinated shutdown. */
  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, String host, int port) {
    return start(system, host, port, SandboxSettings.DEFAULTS);
  }

  public static CompletionStage<ServerBinding> start(
      ActorSystem<?> system, String host, int port, SandboxSettings settings) {
    SandboxRoutes routes = new SandboxRoutes(system, settings);
    return new ApiServer(system, new SimpleMeterRegistry())
        .bind(system, host, port, List.of(routes.route()));
  }
}
