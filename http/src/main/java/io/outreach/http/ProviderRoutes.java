package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.outreach.http.provider.TenantAccounts;
import io.outreach.persistence.ProviderAccountRepository.Account;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A tenant's provider accounts (role admin): {@code PUT /v1/tenant/providers/{provider}} sets one
 * (Twilio {@code accountSid, authToken}; SignalHouse {@code apiKey, webhookSecret}; Apollo and
 * Anthropic {@code apiKey}), {@code GET /v1/tenant/providers} lists those configured with their
 * secrets masked to the last 4 characters, {@code DELETE /v1/tenant/providers/{provider}} removes
 * one. A secret is never answered, logged or stored in clear. In production mode the sandbox twins'
 * public test credentials are refused.
 */
public final class ProviderRoutes extends ApiDirectives {
  /** Fields shown in full: identifiers, not secrets. */
  private static final Set<String> PUBLIC_FIELDS = Set.of("accountSid");

  private static final Pattern TWILIO_SID = Pattern.compile("AC[0-9a-fA-F]{32}");

  private final TenantAccounts accounts;
  private final boolean production;

  public ProviderRoutes(
      ActorSystem<?> system,
      JwtAuth auth,
      long maxBodyBytes,
      TenantAccounts accounts,
      boolean production) {
    super(system, auth, maxBodyBytes);
    this.accounts = accounts;
    this.production = production;
  }

  /** A configured account as the API shows it: identifiers in full, secrets masked. */
  public record AccountView(
      String provider, Map<String, String> fields, Instant updatedAt, String updatedBy) {
    static AccountView of(Account a) {
      Map<String, String> shown = new LinkedHashMap<>();
      for (String field : TenantAccounts.FIELDS.get(a.provider())) {
        String v = a.fields().getOrDefault(field, "");
        shown.put(field, PUBLIC_FIELDS.contains(field) ? v : mask(v));
      }
      return new AccountView(a.provider(), shown, a.updatedAt(), a.updatedBy());
    }
  }

  /** The last 4 characters, the rest starred (a secret of 4 or fewer shows none of it). */
  static String mask(String secret) {
    return secret.length() <= 4 ? "****" : "****" + secret.substring(secret.length() - 4);
  }

  public Route route() {
    return concat(
        path(
            segment("v1").slash("tenant").slash("providers"),
            () -> get(() -> endpoint("GET /v1/tenant/providers", this::list))),
        path(
            segment("v1").slash("tenant").slash("providers").slash(segment()),
            provider ->
                concat(
                    put(() -> endpoint("PUT /v1/tenant/providers/{provider}", () -> put(provider))),
                    delete(
                        () ->
                            endpoint(
                                "DELETE /v1/tenant/providers/{provider}",
                                () -> remove(provider))))));
  }

  private Route list() {
    return authenticated(
        Role.ADMIN,
        p ->
            answer(
                blocking(() -> accounts.list(p.tenantId())),
                list -> json(new ListPage<>(list.stream().map(AccountView::of).toList(), null))));
  }

  private Route put(String provider) {
    return authenticated(
        Role.ADMIN,
        p -> {
          if (!TenantAccounts.FIELDS.containsKey(provider)) {
            return unknown(provider);
          }
          return jsonBody(
              Map.class,
              body -> {
                Map<String, String> fields = new LinkedHashMap<>();
                List<String> problems = fields(provider, body, fields);
                if (problems.isEmpty()
                    && production
                    && TenantAccounts.sandboxCredentials(provider, fields)) {
                  problems.add("the sandbox twins' test credentials are refused in production");
                }
                if (!problems.isEmpty()) {
                  return problem(Problem.Type.VALIDATION.with(String.join("; ", problems)));
                }
                return answer(
                    blocking(() -> accounts.put(p.tenantId(), provider, fields, p.subject())),
                    a -> json(AccountView.of(a)));
              });
        });
  }

  private Route remove(String provider) {
    return authenticated(
        Role.ADMIN,
        p -> {
          if (!TenantAccounts.FIELDS.containsKey(provider)) {
            return unknown(provider);
          }
          return answer(
              blocking(() -> accounts.remove(p.tenantId(), provider, p.subject())),
              removed ->
                  removed
                      ? complete(StatusCodes.NO_CONTENT)
                      : problem(
                          Problem.Type.NOT_FOUND.with(
                              "no " + provider + " account is configured")));
        });
  }

  private Route unknown(String provider) {
    return problem(
        Problem.Type.NOT_FOUND.with(
            "unknown provider "
                + provider
                + "; one of "
                + TenantAccounts.FIELDS.keySet().stream().sorted().toList()));
  }

  /** Checks {@code body} against the provider's fields, copying them into {@code fields}. */
  private static List<String> fields(String provider, Map<?, ?> body, Map<String, String> fields) {
    List<String> problems = new ArrayList<>();
    List<String> names = TenantAccounts.FIELDS.get(provider);
    for (Object key : body.keySet()) {
      if (!names.contains(key)) {
        problems.add("unknown field " + key + " (a " + provider + " account has " + names + ")");
      }
    }
    for (String name : names) {
      Object v = body.get(name);
      if (!(v instanceof String s) || s.isBlank()) {
        problems.add(name + " is required (a string)");
        continue;
      }
      String problem = check(provider, name, s);
      if (problem != null) {
        problems.add(problem);
      } else {
        fields.put(name, s);
      }
    }
    return problems;
  }

  private static String check(String provider, String name, String value) {
    if (value.length() > 4096 || value.chars().anyMatch(Character::isWhitespace)) {
      return name + " must be at most 4096 characters without spaces";
    }
    if (name.equals("accountSid") && !TWILIO_SID.matcher(value).matches()) {
      return "accountSid must be AC followed by 32 hex digits";
    }
    // A webhook secret signs what providers send: a short one is guessable.
    if ((name.equals("authToken") || name.equals("webhookSecret")) && value.length() < 16) {
      return name + " must be at least 16 characters";
    }
    return null;
  }
}
