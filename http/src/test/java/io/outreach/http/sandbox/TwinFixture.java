package io.outreach.http.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.outreach.engine.provider.SendResult;
import io.outreach.engine.provider.SmsProvider;
import io.outreach.http.Main;
import io.outreach.http.provider.ProviderHttp;
import io.outreach.http.provider.SignalHouseSmsAdapter;
import io.outreach.http.provider.TwilioSmsAdapter;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A sandbox on a free port for the twins' integration tests: a {@link WebhookReceiver} stands in
 * for the engine (its base URL is the engine URL the sandbox posts to), the real adapters call the
 * twins, and a {@link SandboxClient} calls the sandbox's own endpoints with the tests' tokens.
 */
final class TwinFixture implements AutoCloseable {
  final ActorSystem<Void> system;
  final WebhookReceiver engine;
  final String base;
  final SandboxClient client;
  private final ProviderHttp http;
  private final boolean ownSystem;

  private TwinFixture(
      ActorSystem<Void> system, WebhookReceiver engine, String base, boolean ownSystem) {
    this.system = system;
    this.engine = engine;
    this.base = base;
    this.client = new SandboxClient(base);
    this.http = new ProviderHttp(system, 64, Duration.ofSeconds(10));
    this.ownSystem = ownSystem;
  }

  /** A sandbox with {@code settings} and its own actor system and engine stand-in. */
  static TwinFixture start(String name, SandboxSettings settings) {
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            name,
            ConfigFactory.parseString("pekko.http.server.remote-address-attribute = on")
                .withFallback(Main.sandboxConfig()));
    WebhookReceiver engine = new WebhookReceiver(system);
    return new TwinFixture(system, engine, bind(system, settings, engine), true);
  }

  /** Another sandbox, with {@code settings}, in {@code other}'s actor system and to its engine. */
  static TwinFixture beside(TwinFixture other, SandboxSettings settings) {
    return new TwinFixture(
        other.system, other.engine, bind(other.system, settings, other.engine), false);
  }

  private static String bind(
      ActorSystem<Void> system, SandboxSettings settings, WebhookReceiver engine) {
    var binding =
        SandboxServer.start(system, "127.0.0.1", 0, settings, SandboxClient.AUTH, engine::base)
            .toCompletableFuture()
            .join();
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  SmsProvider twilio(String accountSid, String authToken) {
    return new TwilioSmsAdapter(http, URI.create(base + "/sandbox/twilio"), accountSid, authToken);
  }

  SmsProvider twilio() {
    return twilio(SandboxSettings.TWILIO_TEST_SID, SandboxSettings.TWILIO_TEST_TOKEN);
  }

  SmsProvider signalHouse(String apiKey) {
    return new SignalHouseSmsAdapter(http, URI.create(base + "/sandbox/signalhouse/"), apiKey);
  }

  SmsProvider signalHouse() {
    return signalHouse(SandboxSettings.SIGNALHOUSE_TEST_KEY);
  }

  /** How many calls to {@code provider} the twin answered with {@code status}. */
  long answered(String provider, int status) {
    return client.get("/sandbox/stats").path("calls").path(provider).path("" + status).asLong(0);
  }

  JsonNode stats() {
    return client.get("/sandbox/stats");
  }

  static SendResult join(CompletionStage<SendResult> stage) {
    try {
      return stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      throw new AssertionError("the send failed", e.getCause());
    }
  }

  static String accepted(CompletionStage<SendResult> stage) {
    SendResult r = join(stage);
    if (!(r instanceof SendResult.Accepted a)) {
      throw new AssertionError("not accepted: " + r);
    }
    return a.providerMessageId();
  }

  @Override
  public void close() {
    if (ownSystem) {
      engine.stop();
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
    }
  }
}
