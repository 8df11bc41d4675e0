package io.outreach.http.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.outreach.engine.enrichment.BulkMatch;
import io.outreach.engine.enrichment.EnrichedPerson;
import io.outreach.engine.enrichment.EnrichmentProvider;
import io.outreach.engine.enrichment.PersonQuery;
import io.outreach.engine.enrichment.RateWindows;
import io.outreach.engine.lead.EnrichedFields;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Apollo's Bulk People Enrichment in its real shape (PROVIDERS.md 2.3): {@code POST
 * {base}/people/bulk_match?reveal_personal_emails=false&reveal_phone_number=false} with the
 * tenant's key in {@code x-api-key} and {@code {"details": [{first_name, last_name, email,
 * organization_name}, ...]}} of at most 10 people. A 200's {@code matches} are read in the order
 * asked (null: nobody matched), its {@code credits_consumed} as a decimal and its {@code
 * x-*-requests-left} headers as the windows left; 429 is a throttle (with its {@code Retry-After}
 * when sent, and the message naming its window); 401, 403 and other 4xx refuse for good; 5xx and
 * failed calls are unavailability, tried again. Phone numbers are not asked for: Apollo sends them
 * only to a webhook, minutes later.
 */
public final class ApolloEnrichmentAdapter implements EnrichmentProvider {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final TenantAccounts accounts;
  private final ProviderHttp http;
  private final Function<String, URI> baseUrls;

  /**
   * @param baseUrls each provider's base URL (Apollo's is {@code https://api.apollo.io/api/v1} or
   *     its twin's), asked per call: a twin served on this node is known once HTTP is bound
   */
  public ApolloEnrichmentAdapter(
      TenantAccounts accounts, ProviderHttp http, Function<String, URI> baseUrls) {
    this.accounts = accounts;
    this.http = http;
    this.baseUrls = baseUrls;
  }

  @Override
  public CompletionStage<BulkMatch> bulkMatch(String tenantId, List<PersonQuery> people) {
    if (people.isEmpty() || people.size() > MAX_PER_CALL) {
      throw new IllegalArgumentException("a bulk match takes 1 to " + MAX_PER_CALL + " people");
    }
    return accounts
        .effectiveAsync(tenantId, APOLLO)
        .thenCompose(
            fields -> {
              Optional<String> key = fields.map(f -> f.get("apiKey"));
              if (key.isEmpty()) {
                return CompletableFuture.<BulkMatch>completedFuture(
                    new BulkMatch.Refused(
                        401,
                        "the tenant has no apollo account: set it with PUT"
                            + " /v1/tenant/providers/apollo"));
              }
              return http.send(request(key.get(), people), () -> {})
                  .thenApply(r -> answer(r, people.size()));
            })
        .exceptionally(e -> new BulkMatch.Unavailable(String.valueOf(e.getMessage())));
  }

  private HttpRequest request(String apiKey, List<PersonQuery> people) {
    ArrayNode details = JSON.createArrayNode();
    for (PersonQuery p : people) {
      ObjectNode d = details.addObject();
      put(d, "first_name", p.firstName());
      put(d, "last_name", p.lastName());
      put(d, "email", p.email());
      put(d, "organization_name", p.organizationName());
    }
    ObjectNode body = JSON.createObjectNode();
    body.set("details", details);
    URI base = baseUrls.apply(APOLLO);
    return HttpRequest.POST(
            base + "/people/bulk_match?reveal_personal_emails=false&reveal_phone_number=false")
        .addHeader(RawHeader.create("x-api-key", apiKey))
        .addHeader(RawHeader.create("Cache-Control", "no-cache"))
        .withEntity(ContentTypes.APPLICATION_JSON, body.toString());
  }

  /** Apollo's answer as a {@link BulkMatch}; {@code asked} people were sent. */
  static BulkMatch answer(ProviderHttp.Response r, int asked) {
    int status = r.status();
    if (status == 200) {
      JsonNode body = parse(r.body());
      JsonNode matches = body.path("matches");
      if (!matches.isArray()) {
        return new BulkMatch.Unavailable("a 200 without matches");
      }
      List<EnrichedPerson> people = new ArrayList<>();
      for (int i = 0; i < asked; i++) {
        JsonNode m = matches.path(i);
        people.add(m.isObject() ? person(m) : null);
      }
      JsonNode credits = body.path("credits_consumed");
      return new BulkMatch.Matched(
          people,
          credits.isNumber() ? credits.decimalValue() : new BigDecimal(credits.asText("0")),
          windows(r));
    }
    String reason = reason(r.body());
    if (status == 429) {
      return new BulkMatch.Throttled(
          r.retryAfter().flatMap(ProviderAnswers::retryAfter).orElse(null), reason);
    }
    if (status >= 500) {
      return new BulkMatch.Unavailable(status + ": " + reason);
    }
    return new BulkMatch.Refused(status, reason);
  }

  /** A match as a lead can take it: normalized as an import normalizes a lead's fields. */
  static EnrichedPerson person(JsonNode m) {
    JsonNode org = m.path("organization");
    String state = EnrichedFields.usState(text(m, "state"));
    String country = text(m, "country");
    boolean us =
        country == null || country.toLowerCase(Locale.ROOT).matches("united states|us|usa");
    return new EnrichedPerson(
        text(m, "id"),
        text(m, "first_name"),
        text(m, "last_name"),
        EnrichedFields.email(text(m, "email")),
        text(m, "email_status"),
        text(m, "title"),
        Optional.ofNullable(text(org, "name")).orElse(text(m, "organization_name")),
        text(org, "primary_domain"),
        text(m, "city"),
        us ? state : null,
        country,
        text(m, "linkedin_url"));
  }

  /** The windows left, from {@code x-minute-requests-left} and its hourly and daily kin. */
  static RateWindows windows(ProviderHttp.Response r) {
    return new RateWindows(
        number(r.header("x-minute-requests-left")),
        number(r.header("x-hourly-requests-left")),
        number(r.header("x-daily-requests-left").or(() -> r.header("x-24-hour-requests-left"))));
  }

  private static Integer number(Optional<String> value) {
    try {
      return value.map(String::trim).map(Integer::valueOf).orElse(null);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Apollo's reason: {@code message} or {@code error} of a JSON body, else the text itself. */
  private static String reason(String body) {
    JsonNode json = parse(body);
    for (String field : List.of("message", "error", "error_message")) {
      String v = json.path(field).asText("");
      if (!v.isBlank()) {
        return v;
      }
    }
    String text = body == null ? "" : body.strip();
    return text.length() > 200 ? text.substring(0, 200) : text;
  }

  private static JsonNode parse(String body) {
    try {
      JsonNode n = body == null || body.isBlank() ? null : JSON.readTree(body);
      return n == null ? JSON.createObjectNode() : n;
    } catch (IOException e) {
      return JSON.createObjectNode();
    }
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.path(field);
    return v.isTextual() ? EnrichedFields.text(v.asText()) : null;
  }

  private static void put(ObjectNode d, String field, String value) {
    if (value != null && !value.isBlank()) {
      d.put(field, value);
    }
  }
}
