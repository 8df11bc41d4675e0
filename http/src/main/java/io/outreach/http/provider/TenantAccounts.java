package io.outreach.http.provider;

import io.outreach.http.sandbox.SandboxSettings;
import io.outreach.persistence.ProviderAccountRepository;
import io.outreach.persistence.ProviderAccountRepository.Account;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The tenants' provider accounts as the node uses them: read from their sealed store, kept a few
 * seconds ({@link #FRESH}: a change made on another node is seen within that), and, in sandbox
 * mode, the twins' test credentials standing in for a tenant with no account of its own (so a local
 * run needs none). Also which tenants exist, for the webhooks.
 */
public final class TenantAccounts {
  /** How long a tenant's accounts are used before they are read again. */
  public static final Duration FRESH = Duration.ofSeconds(10);

  /** The providers a tenant may keep an account with, and each account's fields. */
  public static final Map<String, List<String>> FIELDS =
      Map.of(
          "twilio", List.of("accountSid", "authToken"),
          "signalhouse", List.of("apiKey", "webhookSecret"),
          "apollo", List.of("apiKey"),
          "anthropic", List.of("apiKey"));

  private record Cached<T>(T value, long until) {
    boolean fresh() {
      return System.nanoTime() - until < 0;
    }
  }

  private final ProviderAccountRepository store;
  private final Function<String, CompletionStage<Boolean>> tenants;
  private final boolean sandbox;
  private final Executor blocking;
  private final Map<String, Cached<List<Account>>> accounts = new ConcurrentHashMap<>();
  private final Map<String, Cached<Boolean>> existing = new ConcurrentHashMap<>();

  /**
   * @param tenants whether a tenant exists (asked of its entity, the source of truth; failing when
   *     it cannot tell)
   * @param sandbox the providers are the sandbox twins: their test credentials stand in
   * @param blocking where the store's blocking reads run for asynchronous callers
   */
  public TenantAccounts(
      ProviderAccountRepository store,
      Function<String, CompletionStage<Boolean>> tenants,
      boolean sandbox,
      Executor blocking) {
    this.store = store;
    this.tenants = tenants;
    this.sandbox = sandbox;
    this.blocking = blocking;
  }

  /** The tenant's own account at {@code provider}. Blocking (off actor and HTTP threads). */
  public Optional<Account> own(String tenantId, String provider) {
    Cached<List<Account>> c = accounts.get(tenantId);
    if (c == null || !c.fresh()) {
      c = new Cached<>(store.list(tenantId), System.nanoTime() + FRESH.toNanos());
      accounts.put(tenantId, c);
    }
    return c.value().stream().filter(a -> a.provider().equals(provider)).findFirst();
  }

  /**
   * The fields to use for the tenant at {@code provider}: its own account's, else (sandbox mode
   * only) the twin's test credentials. Blocking.
   */
  public Optional<Map<String, String>> effective(String tenantId, String provider) {
    Optional<Map<String, String>> own = own(tenantId, provider).map(Account::fields);
    return own.isPresent() || !sandbox ? own : sandboxFields(provider);
  }

  /** {@link #effective}, off the caller's thread. */
  public CompletionStage<Optional<Map<String, String>>> effectiveAsync(
      String tenantId, String provider) {
    Cached<List<Account>> c = accounts.get(tenantId);
    if (c != null && c.fresh()) {
      return CompletableFuture.completedFuture(effective(tenantId, provider));
    }
    return CompletableFuture.supplyAsync(() -> effective(tenantId, provider), blocking);
  }

  /**
   * Whether the tenant exists (a known tenant is remembered, an unknown one asked again); fails
   * when that cannot be told (so a webhook is answered 503 and retried, never dropped as 404).
   */
  public CompletionStage<Boolean> exists(String tenantId) {
    Cached<Boolean> c = existing.get(tenantId);
    if (c != null && c.fresh()) {
      return CompletableFuture.completedFuture(c.value());
    }
    return tenants
        .apply(tenantId)
        .thenApply(
            found -> {
              if (found) {
                existing.put(tenantId, new Cached<>(true, System.nanoTime() + FRESH.toNanos()));
              }
              return found;
            });
  }

  /** Sets the tenant's account at {@code provider} (seen at once on this node). Blocking. */
  public Account put(String tenantId, String provider, Map<String, String> fields, String actor) {
    Account a = store.put(tenantId, provider, fields, actor);
    accounts.remove(tenantId);
    return a;
  }

  /** Removes the tenant's account at {@code provider}; false if it had none. Blocking. */
  public boolean remove(String tenantId, String provider, String actor) {
    boolean removed = store.remove(tenantId, provider, actor);
    accounts.remove(tenantId);
    return removed;
  }

  /** The tenant's own accounts. Blocking. */
  public List<Account> list(String tenantId) {
    accounts.remove(tenantId);
    return store.list(tenantId);
  }

  /** Whether {@code fields} are the sandbox twins' public test credentials. */
  public static boolean sandboxCredentials(String provider, Map<String, String> fields) {
    return sandboxFields(provider)
        .map(
            test ->
                test.entrySet().stream().anyMatch(e -> e.getValue().equals(fields.get(e.getKey()))))
        .orElse(false);
  }

  private static Optional<Map<String, String>> sandboxFields(String provider) {
    return switch (provider) {
      case "twilio" ->
          Optional.of(
              Map.of(
                  "accountSid",
                  SandboxSettings.TWILIO_TEST_SID,
                  "authToken",
                  SandboxSettings.TWILIO_TEST_TOKEN));
      case "signalhouse" ->
          Optional.of(
              Map.of(
                  "apiKey",
                  SandboxSettings.SIGNALHOUSE_TEST_KEY,
                  "webhookSecret",
                  SandboxSettings.SIGNALHOUSE_TEST_SECRET));
      case "apollo" -> Optional.of(Map.of("apiKey", SandboxSettings.APOLLO_TEST_KEY));
      default -> Optional.empty();
    };
  }
}
