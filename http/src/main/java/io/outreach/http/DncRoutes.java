package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.outreach.engine.lead.PhoneNumbers;
import io.outreach.persistence.DncRepository;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.StreamConverters;

/**
 * Do-not-contact: a tenant's own list ({@code POST /v1/dnc}, {@code GET/DELETE /v1/dnc/{phone}})
 * and the national registry copy shared by all tenants ({@code POST /v1/dnc/national}, role
 * platform). Numbers are accepted in any common format and stored as E.164.
 */
public final class DncRoutes extends ApiDirectives {
  private static final int MAX_PHONES = 10_000;
  private static final int MAX_LISTED_REJECTS = 100;

  private final ActorSystem<?> system;
  private final DncRepository dnc;
  private final String region;
  private final long maxUploadBytes;

  public DncRoutes(
      ActorSystem<?> system,
      JwtAuth auth,
      long maxBodyBytes,
      DncRepository dnc,
      String region,
      long maxUploadBytes) {
    super(system, auth, maxBodyBytes);
    this.system = system;
    this.dnc = dnc;
    this.region = region;
    this.maxUploadBytes = maxUploadBytes;
  }

  /** Body of {@code POST /v1/dnc}. */
  public record AddNumbers(List<String> phones, String reason) {}

  public Route route() {
    return concat(
        path(
            segment("v1").slash("dnc"),
            () ->
                post(
                    () -> endpoint("POST /v1/dnc", () -> authenticated(Role.OPERATOR, this::add)))),
        path(
            segment("v1").slash("dnc").slash("national"),
            () ->
                post(
                    () ->
                        endpoint(
                            "POST /v1/dnc/national",
                            () ->
                                withRequestTimeout(
                                    Duration.ofMinutes(60),
                                    () -> authenticated(Role.PLATFORM, p -> loadNational()))))),
        path(
            segment("v1").slash("dnc").slash(segment()),
            phone ->
                concat(
                    get(
                        () ->
                            endpoint(
                                "GET /v1/dnc/{phone}",
                                () -> authenticated(Role.VIEWER, p -> show(p, phone)))),
                    delete(
                        () ->
                            endpoint(
                                "DELETE /v1/dnc/{phone}",
                                () -> authenticated(Role.ADMIN, p -> remove(p, phone)))))));
  }

  private Route add(Principal p) {
    return jsonBody(
        AddNumbers.class,
        body -> {
          if (body.phones() == null
              || body.phones().isEmpty()
              || body.phones().size() > MAX_PHONES) {
            return problem(
                Problem.Type.VALIDATION.with("phones must list 1 to " + MAX_PHONES + " numbers"));
          }
          List<String> numbers = new ArrayList<>();
          List<String> invalid = new ArrayList<>();
          for (String raw : body.phones()) {
            PhoneNumbers.e164(raw, region)
                .ifPresentOrElse(numbers::add, () -> invalid.add(String.valueOf(raw)));
          }
          if (!invalid.isEmpty()) {
            return problem(
                Problem.Type.VALIDATION.with(
                    "not valid phone numbers: "
                        + String.join(", ", invalid.subList(0, Math.min(20, invalid.size())))));
          }
          String reason =
              body.reason() == null || body.reason().isBlank() ? null : body.reason().trim();
          List<String> distinct = numbers.stream().distinct().toList();
          return answer(
              blocking(() -> dnc.add(p.tenantId(), distinct, reason, "api")),
              added -> json(StatusCodes.OK, Map.of("added", added, "phones", distinct)));
        });
  }

  private Route show(Principal p, String raw) {
    Optional<String> phone = PhoneNumbers.e164(raw, region);
    if (phone.isEmpty()) {
      return notListed(raw);
    }
    return answer(
        blocking(
            () ->
                dnc.get(p.tenantId(), phone.get())
                    .<Object>map(e -> e)
                    .or(
                        () ->
                            dnc.listing(p.tenantId(), phone.get())
                                .map(
                                    l ->
                                        Map.of(
                                            "phone",
                                            phone.get(),
                                            "source",
                                            "national",
                                            "asOf",
                                            dnc.nationalCopyAsOf()
                                                .map(LocalDate::toString)
                                                .orElse(""))))),
        entry -> entry.map(this::json).orElseGet(() -> notListed(raw)));
  }

  private Route remove(Principal p, String raw) {
    Optional<String> phone = PhoneNumbers.e164(raw, region);
    if (phone.isEmpty()) {
      return notListed(raw);
    }
    return answer(
        blocking(
            () -> {
              Optional<DncRepository.Entry> removed = dnc.remove(p.tenantId(), phone.get());
              if (removed.isEmpty() && dnc.get(p.tenantId(), phone.get()).isPresent()) {
                throw new ProblemException(
                    Problem.Type.CONFLICT.with(
                        "this number is suppressed because its lead was erased; it cannot be removed"));
              }
              return removed;
            }),
        removed -> removed.isPresent() ? complete(StatusCodes.NO_CONTENT) : notListed(raw));
  }

  private Route notListed(String raw) {
    return problem(Problem.Type.NOT_FOUND.with(raw + " is not on the do-not-contact list"));
  }

  private Route loadNational() {
    return parameterOptional(
        "asOf",
        asOfParam ->
            extractRequestEntity(
                entity -> {
                  var type = entity.getContentType().mediaType();
                  if (!(type.mainType().equals("text") && type.subType().equals("csv"))) {
                    return problem(
                        Problem.Type.UNSUPPORTED_MEDIA_TYPE.with(
                            "the national copy must be text/csv"));
                  }
                  LocalDate asOf;
                  try {
                    asOf = LocalDate.parse(asOfParam.orElseThrow());
                  } catch (DateTimeParseException | java.util.NoSuchElementException e) {
                    entity.discardBytes(system);
                    return problem(Problem.Type.VALIDATION.with("asOf=YYYY-MM-DD is required"));
                  }
                  if (asOf.isAfter(LocalDate.now().plusDays(1))) {
                    entity.discardBytes(system);
                    return problem(Problem.Type.VALIDATION.with("asOf must not be in the future"));
                  }
                  InputStream body =
                      entity
                          .withSizeLimit(maxUploadBytes)
                          .getDataBytes()
                          .runWith(StreamConverters.asInputStream(Duration.ofSeconds(60)), system);
                  return answer(blocking(() -> replaceNational(body, asOf)), this::json);
                }));
  }

  /** Normalizes the uploaded numbers into a scratch file, then swaps the copy in one go. */
  private Map<String, Object> replaceNational(InputStream body, LocalDate asOf) {
    Path scratch = null;
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      scratch = Files.createTempFile("national-dnc-", ".txt");
      long rejected = 0;
      List<String> examples = new ArrayList<>();
      try (BufferedWriter out = Files.newBufferedWriter(scratch)) {
        String line;
        while ((line = in.readLine()) != null) {
          String cell = line.split(",", 2)[0].replace("\"", "").trim();
          if (cell.isEmpty() || cell.equalsIgnoreCase("phone")) {
            continue;
          }
          Optional<String> e164 = PhoneNumbers.e164(cell, region);
          if (e164.isPresent()) {
            out.write(e164.get());
            out.write('\n');
          } else {
            rejected++;
            if (examples.size() < MAX_LISTED_REJECTS) {
              examples.add(cell);
            }
          }
        }
      }
      DncRepository.NationalCopy copy;
      try (BufferedReader numbers = Files.newBufferedReader(scratch)) {
        copy = dnc.replaceNational(numbers, asOf);
      }
      return Map.of(
          "asOf", copy.asOf().toString(),
          "numbers", copy.numbers(),
          "rejected", rejected,
          "rejectedExamples", examples,
          "loadedAt", copy.loadedAt().toString());
    } catch (IOException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new UncheckedIOException(e);
    } finally {
      if (scratch != null) {
        try {
          Files.deleteIfExists(scratch);
        } catch (IOException ignored) {
          // a scratch file in the temp dir; nothing depends on it
        }
      }
    }
  }
}
