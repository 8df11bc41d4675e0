package io.outreach.http.sandbox;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.outreach.http.ApiServer;
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
  /** Where a standalone twin posts replies unless told otherwise: the engine's public URL. */
  public static final String ENGINE_URL_VARIABLE = "OUTREACH_PUBLIC_URL";

  private SandboxServer() {}

  /**
   * Binds the twins with the default sandbox settings, posting replies to {@value
   * #ENGINE_URL_VARIABLE}; unbinds on coordinated shutdown.
   */
  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, String host, int port) {
    return start(
        system, host, port, SandboxSettings.DEFAULTS, () -> System.getenv(ENGINE_URL_VARIABLE));
  }

  /**
   * Binds the twins; {@code engineUrl} is the engine's base URL for replies (null or blank when
   * none is known).
   */
  public static CompletionStage<ServerBinding> start(
      ActorSystem<?> system,
      String host,
      int port,
      SandboxSettings settings,
      Supplier<String> engineUrl) {
    SandboxRoutes routes = new SandboxRoutes(system, settings, engineUrl);
    return new ApiServer(system, new SimpleMeterRegistry())
        .bind(system, host, port, List.of(routes.route()));
  }
}
