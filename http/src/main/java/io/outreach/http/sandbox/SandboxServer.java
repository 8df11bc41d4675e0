package io.outreach.http.sandbox;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.outreach.http.ApiServer;
import io.outreach.http.JwtAuth;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * Serves only the sandbox twins, for the standalone {@code sandbox} command and for tests, behind
 * the same request wrapper as the engine (problem+json errors, access log). Its metrics go to a
 * private registry: a standalone twin has no {@code /metrics}.
 */
public final class SandboxServer {
  /** Where a standalone twin posts callbacks and replies unless told otherwise. */
  public static final String ENGINE_URL_VARIABLE = "OUTREACH_PUBLIC_URL";

  private SandboxServer() {}

  /**
   * Binds the twins with {@code settings}; {@code auth} verifies the tokens of the log, faults and
   * replies (the engine's secret, so the engine's tokens work here); {@code engineUrl} is the
   * engine's public base URL, the only place callbacks and replies go (null or blank when none is
   * known). Unbinds on coordinated shutdown.
   */
  public static CompletionStage<ServerBinding> start(
      ActorSystem<?> system,
      String host,
      int port,
      SandboxSettings settings,
      JwtAuth auth,
      Supplier<String> engineUrl) {
    SandboxRoutes routes = new SandboxRoutes(system, settings, auth, engineUrl);
    return new ApiServer(system, new SimpleMeterRegistry())
        .bind(system, host, port, List.of(routes.route()));
  }
}
