package io.outreach.http.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Apollo's People Enrichment as the twin serves it (PROVIDERS.md 2.1-2.5): {@code POST
 * /api/v1/people/bulk_match} with {@code {"details": [...]}} of 1 to 10 people and its flags as
 * query parameters, and {@code POST /api/v1/people/match} with the person as query parameters (or a
 * JSON body). {@code x-api-key} must be a key the twin knows, else 401 in plain text as Apollo
 * answers it. Every answered call carries the {@code x-rate-limit-*}, {@code x-*-requests-left} and
 * {@code x-*-usage} headers of its key's fixed windows (UTC minute, hour, day); a call over a
 * window's limit is 429 {@code {message}} naming the window, with a {@code Retry-After} to the
 * window's end (whether Apollo sends one is unconfirmed; the engine copes without).
 *
 * <p>People are made up, deterministically from what was asked, so tests can predict them: a detail
 * with an email, or a first and last name with an organization name or domain (or an {@code id} or
 * {@code linkedin_url}), is matched, unless its email's local part or last name starts with {@code
 * nomatch}; a name alone matches nobody (as Apollo warns). A match costs 1 credit (no mobile
 * numbers are revealed here: Apollo sends them to a webhook, which the twin does not post). A
 * waterfall request is accepted with a {@code waterfall} object and without the count fields; it
 * and {@code reveal_phone_number} need a {@code webhook_url}. Each person asked is logged (provider
 * {@code apollo}, {@code to} the email or name, {@code body} the detail as sent, {@code messageId}
 * the matched person's id or null); the twin cannot tell tenants apart (Apollo knows only keys), so
 * the entries belong to no tenant.
 */
final class ApolloTwin {
  /** Apollo's bulk match takes at most 10 people per call. */
  static final int MAX_DETAILS = 10;

  static final String UNAUTHORIZED =
      "Invalid API key. See https://docs.apollo.io/reference/authentication for how to"
          + " authenticate.";

  private static final String[][] PLACES = {
    {"Austin", "Texas"},
    {"Denver", "Colorado"},
    {"Boston", "Massachusetts"},
    {"Seattle", "Washington"},
    {"Miami", "Florida"},
    {"Chicago", "Illinois"}
  };
  private static final String[] TITLES = {
    "VP of Sales", "Head of Marketing", "Founder", "Operations Manager", "Director of Growth"
  };
  private static final String[] SURNAMES = {"Rivera", "Chen", "Okafor", "Novak", "Silva", "Khan"};

  private final ObjectMapper json;
  private final SandboxLog log;
  private final Set<String> keys;
  private final SandboxSettings.ApolloLimits limits;
  private final Clock clock;
  // Calls per key in its current windows; guarded by this.
  private final Map<String, long[]> usage = new HashMap<>();

  ApolloTwin(
      ObjectMapper json,
      SandboxLog log,
      Set<String> keys,
      SandboxSettings.ApolloLimits limits,
      Clock clock) {
    this.json = json;
    this.log = log;
    this.keys = Set.copyOf(keys);
    this.limits = limits;
    this.clock = clock;
  }

  /** {@code POST /api/v1/people/bulk_match}. */
  TwinAnswer.Call bulkMatch(Optional<String> apiKey, Map<String, String> query, String raw) {
    if (apiKey.filter(keys::contains).isEmpty()) {
      return now(TwinAnswer.text(401, UNAUTHORIZED));
    }
    JsonNode body = parse(raw);
    JsonNode details = body == null ? null : body.get("details");
    if (details == null || !details.isArray() || details.isEmpty()) {
      return now(error(400, "details is required: an array of 1 to 10 people"));
    }
    if (details.size() > MAX_DETAILS) {
      return now(
          error(422, "details may hold at most " + MAX_DETAILS + " people per bulk_match call"));
    }
    String problem = webhookProblem(query);
    if (problem != null) {
      return now(error(400, problem));
    }
    List<JsonNode> people = new ArrayList<>();
    details.forEach(people::add);
    String key = apiKey.get();
    return new TwinAnswer.Call.Take(() -> answerBulk(key, query, people));
  }

  /** {@code POST /api/v1/people/match}: one person, from the query (or a JSON body). */
  TwinAnswer.Call match(Optional<String> apiKey, Map<String, String> query, String raw) {
    if (apiKey.filter(keys::contains).isEmpty()) {
      return now(TwinAnswer.text(401, UNAUTHORIZED));
    }
    String problem = webhookProblem(query);
    if (problem != null) {
      return now(error(400, problem));
    }
    Map<String, Object> detail = new LinkedHashMap<>(query);
    JsonNode body = parse(raw);
    if (body != null && body.isObject()) {
      body.properties().forEach(e -> detail.putIfAbsent(e.getKey(), e.getValue().asText()));
    }
    JsonNode person = json.valueToTree(detail);
    String key = apiKey.get();
    return new TwinAnswer.Call.Take(
        () ->
            limited(
                key,
                "api/v1/people/match",
                () -> {
                  Map<String, Object> found = match(person, false);
                  logged(List.of(person), found == null ? List.of() : List.of(found));
                  Map<String, Object> out = new LinkedHashMap<>();
                  out.put("person", found);
                  out.put("request_id", requestId());
                  return TwinAnswer.of(200, out);
                }));
  }

  private TwinAnswer answerBulk(String key, Map<String, String> query, List<JsonNode> people) {
    return limited(
        key,
        "api/v1/people/bulk_match",
        () -> {
          boolean waterfall =
              flag(query, "run_waterfall_email") || flag(query, "run_waterfall_phone");
          boolean noEmail = flag(query, "run_waterfall_email");
          List<Map<String, Object>> matches = new ArrayList<>();
          int matched = 0;
          for (JsonNode p : people) {
            Map<String, Object> m = match(p, noEmail);
            matches.add(m);
            if (m != null) {
              matched++;
            }
          }
          logged(people, matches);
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("status", "success");
          out.put("error_code", null);
          out.put("error_message", null);
          out.put("total_requested_enrichments", people.size());
          if (waterfall) {
            out.put(
                "waterfall",
                Map.of(
                    "status",
                    "accepted",
                    "message",
                    "Waterfall enrichment accepted; results are sent to the webhook_url"));
          } else {
            out.put("unique_enriched_records", matched);
            out.put("missing_records", people.size() - matched);
            out.put("credits_consumed", matched);
          }
          out.put("matches", matches);
          out.put("request_id", requestId());
          return TwinAnswer.of(200, out);
        });
  }

  /**
   * Counts the call in its key's windows and answers it, with the windows' headers; or refuses it
   * 429 when a window is used up (the widest first).
   */
  private TwinAnswer limited(
      String key, String endpoint, java.util.function.Supplier<TwinAnswer> answer) {
    Instant now = clock.instant();
    long[] windows = {
      now.getEpochSecond() / 60, now.getEpochSecond() / 3600, now.getEpochSecond() / 86400
    };
    long[] used;
    synchronized (this) {
      long[] u = usage.computeIfAbsent(key, k -> new long[6]);
      for (int i = 0; i < 3; i++) {
        if (u[i] != windows[i]) {
          u[i] = windows[i];
          u[3 + i] = 0;
        }
      }
      String over =
          u[5] >= limits.perDay()
              ? "day"
              : u[4] >= limits.perHour() ? "hour" : u[3] >= limits.perMinute() ? "minute" : null;
      if (over != null) {
        int limit =
            over.equals("day")
                ? limits.perDay()
                : over.equals("hour") ? limits.perHour() : limits.perMinute();
        ChronoUnit unit =
            over.equals("day")
                ? ChronoUnit.DAYS
                : over.equals("hour") ? ChronoUnit.HOURS : ChronoUnit.MINUTES;
        return throttled(endpoint, limit, over, unit, now);
      }
      u[3]++;
      u[4]++;
      u[5]++;
      used = u.clone();
    }
    return answer
        .get()
        .withHeader("x-rate-limit-minute", Integer.toString(limits.perMinute()))
        .withHeader("x-minute-usage", Long.toString(used[3]))
        .withHeader("x-minute-requests-left", Long.toString(limits.perMinute() - used[3]))
        .withHeader("x-rate-limit-hourly", Integer.toString(limits.perHour()))
        .withHeader("x-hourly-usage", Long.toString(used[4]))
        .withHeader("x-hourly-requests-left", Long.toString(limits.perHour() - used[4]))
        .withHeader("x-rate-limit-daily", Integer.toString(limits.perDay()))
        .withHeader("x-daily-usage", Long.toString(used[5]))
        .withHeader("x-daily-requests-left", Long.toString(limits.perDay() - used[5]));
  }

  private static TwinAnswer throttled(
      String endpoint, int limit, String window, ChronoUnit unit, Instant now) {
    Instant end = now.atZone(java.time.ZoneOffset.UTC).truncatedTo(unit).plus(1, unit).toInstant();
    long seconds = Math.max(1, Duration.between(now, end).toSeconds() + 1);
    return error(
            429,
            "The maximum number of api calls allowed for "
                + endpoint
                + " is "
                + limit
                + " times per "
                + window
                + ". Please upgrade your plan from"
                + " https://app.apollo.io/#/settings/plans/upgrade.")
        .withHeader("Retry-After", Long.toString(seconds));
  }

  /** The answer to a call the faults refuse: 429, 500 or 503. */
  TwinAnswer fault(int status) {
    return switch (status) {
      case 429 ->
          error(
                  429,
                  "The maximum number of api calls allowed for api/v1/people/bulk_match is"
                      + " exceeded. Please upgrade your plan from"
                      + " https://app.apollo.io/#/settings/plans/upgrade.")
              .withHeader("Retry-After", "1");
      case 503 -> error(503, "Service Unavailable");
      default -> error(500, "Internal Server Error");
    };
  }

  /** A made-up person for a detail, or null when Apollo would match nobody. */
  Map<String, Object> match(JsonNode d, boolean withoutEmail) {
    String email = lower(text(d, "email"));
    String first = text(d, "first_name");
    String last = text(d, "last_name");
    String org = text(d, "organization_name");
    String domain = lower(text(d, "domain"));
    boolean identified =
        email != null
            || text(d, "id") != null
            || text(d, "linkedin_url") != null
            || (first != null && last != null && (org != null || domain != null));
    if (!identified
        || (email != null && email.startsWith("nomatch"))
        || (last != null && last.toLowerCase(Locale.ROOT).startsWith("nomatch"))) {
      return null;
    }
    String seedText =
        email != null ? email : (first + " " + last + "@" + (domain != null ? domain : org));
    byte[] seed = sha256(seedText.toLowerCase(Locale.ROOT));
    int n = Byte.toUnsignedInt(seed[0]);
    String[] local =
        email == null ? new String[0] : email.substring(0, email.indexOf('@')).split("[._+-]");
    if (first == null) {
      first = capitalized(local.length > 0 ? local[0] : "alex");
    }
    if (last == null) {
      last = local.length > 1 ? capitalized(local[1]) : SURNAMES[n % SURNAMES.length];
    }
    if (domain == null) {
      domain =
          email != null
              ? email.substring(email.indexOf('@') + 1)
              : org.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "") + ".com";
    }
    if (org == null) {
      String label = domain.contains(".") ? domain.substring(0, domain.indexOf('.')) : domain;
      org = capitalized(label);
    }
    if (email == null) {
      email =
          (first + "." + last).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.]", "") + "@" + domain;
    }
    String id = HexFormat.of().formatHex(seed, 0, 12);
    String orgId = HexFormat.of().formatHex(sha256(domain), 0, 12);
    String[] place = PLACES[n % PLACES.length];
    String title = TITLES[Byte.toUnsignedInt(seed[1]) % TITLES.length];
    Map<String, Object> organization = new LinkedHashMap<>();
    organization.put("id", orgId);
    organization.put("name", org);
    organization.put("website_url", "http://www." + domain);
    organization.put("primary_domain", domain);
    organization.put("industry", "information technology & services");
    organization.put("estimated_num_employees", 10 + (n * 7) % 990);
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("id", id);
    p.put("first_name", first);
    p.put("last_name", last);
    p.put("name", first + " " + last);
    p.put(
        "linkedin_url",
        "http://www.linkedin.com/in/"
            + (first + "-" + last).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "")
            + "-"
            + id.substring(0, 6));
    p.put("title", title);
    p.put("headline", title + " at " + org);
    p.put("photo_url", null);
    if (!withoutEmail) {
      p.put("email_status", "verified");
      p.put("email", email);
    }
    p.put("extrapolated_email_confidence", null);
    p.put("organization_id", orgId);
    p.put("organization", organization);
    p.put("employment_history", List.of());
    p.put("state", place[1]);
    p.put("city", place[0]);
    p.put("country", "United States");
    p.put("departments", List.of("master_sales"));
    p.put("subdepartments", List.of());
    p.put("functions", List.of("sales"));
    p.put("seniority", "vp");
    p.put("revealed_for_current_team", true);
    p.put("is_likely_to_engage", (n & 1) == 0);
    return p;
  }

  private void logged(List<JsonNode> asked, List<Map<String, Object>> found) {
    List<SandboxLog.Message> messages = new ArrayList<>();
    for (int i = 0; i < asked.size(); i++) {
      JsonNode d = asked.get(i);
      Map<String, Object> m = i < found.size() ? found.get(i) : null;
      String to = text(d, "email");
      if (to == null) {
        to = (text(d, "first_name") + " " + text(d, "last_name")).strip();
      }
      messages.add(
          new SandboxLog.Message(
              to, null, d.toString(), m == null ? null : String.valueOf(m.get("id")), null));
    }
    log.record("apollo", null, null, null, messages);
  }

  /** Phones and waterfalls are answered through a webhook: one must be named. */
  private static String webhookProblem(Map<String, String> query) {
    boolean needsWebhook =
        flag(query, "reveal_phone_number")
            || flag(query, "run_waterfall_email")
            || flag(query, "run_waterfall_phone");
    String webhook = query.get("webhook_url");
    if (needsWebhook && (webhook == null || webhook.isBlank())) {
      return "webhook_url is mandatory when reveal_phone_number, run_waterfall_email or"
          + " run_waterfall_phone is true";
    }
    return null;
  }

  private static boolean flag(Map<String, String> query, String name) {
    return "true".equalsIgnoreCase(query.getOrDefault(name, "false").strip());
  }

  /** A request id as Apollo's: a signed 64-bit integer, often negative. */
  private static long requestId() {
    return ThreadLocalRandom.current().nextLong();
  }

  static TwinAnswer error(int status, String message) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("message", message);
    return TwinAnswer.of(status, body);
  }

  private JsonNode parse(String raw) {
    if (raw == null || raw.isBlank()) {
      return null;
    }
    try {
      return json.readTree(raw);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static String text(JsonNode d, String field) {
    JsonNode v = d.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    String s = v.asText().strip();
    return s.isEmpty() ? null : s;
  }

  private static String lower(String s) {
    return s == null ? null : s.toLowerCase(Locale.ROOT);
  }

  private static String capitalized(String s) {
    if (s == null || s.isEmpty()) {
      return s;
    }
    return Character.toUpperCase(s.charAt(0)) + s.substring(1).toLowerCase(Locale.ROOT);
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static TwinAnswer.Call now(TwinAnswer answer) {
    return new TwinAnswer.Call.Now(answer);
  }
}
