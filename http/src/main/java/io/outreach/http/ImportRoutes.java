package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.outreach.engine.intake.ImportJob;
import io.outreach.engine.intake.ImportSpec;
import io.outreach.engine.intake.ImportStatus;
import io.outreach.engine.intake.UploadStore;
import io.outreach.engine.lead.CsvFormatException;
import io.outreach.engine.lead.CsvRecords;
import io.outreach.engine.lead.LeadColumns;
import io.outreach.engine.lead.RowError;
import io.outreach.engine.tenant.Tenant;
import io.outreach.engine.tenant.TenantEntity;
import io.outreach.persistence.ImportLedger;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.StreamConverters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lead imports: {@code POST /v1/imports} streams a CSV body into tenant storage while hashing it
 * (never holding it in memory), checks the header before anything else, and starts an {@link
 * ImportJob}; the same content or {@code Idempotency-Key} answers with the existing import. {@code
 * GET /v1/imports/{id}} reports progress and outcome.
 */
public final class ImportRoutes extends ApiDirectives {
  private static final Pattern IMPORT_ID = Pattern.compile("imp_[a-z0-9]{8,40}");
  private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[\\x21-\\x7e]{1,255}");
  private static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(60);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final ImportLedger ledger;
  private final UploadStore uploads;
  private final long maxUploadBytes;
  private final String defaultRegion;

  private static final Logger log = LoggerFactory.getLogger(ImportRoutes.class);
  private final java.util.concurrent.Executor uploadsPool;
  private final int maxConcurrentUploads;
  // Uploads under way per tenant (this node's): at most maxConcurrentUploads each.
  private final Map<String, AtomicInteger> uploadsUnderWay = new ConcurrentHashMap<>();

  public ImportRoutes(
      ActorSystem<?> system,
      JwtAuth auth,
      Duration askTimeout,
      ImportLedger ledger,
      UploadStore uploads,
      long maxUploadBytes,
      int maxConcurrentUploads,
      String defaultRegion) {
    super(system, auth, 0);
    this.uploadsPool =
        system.dispatchers().lookup(DispatcherSelector.fromConfig("outreach.uploads-dispatcher"));
    this.maxConcurrentUploads = maxConcurrentUploads;
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
    this.ledger = ledger;
    this.uploads = uploads;
    this.maxUploadBytes = maxUploadBytes;
    this.defaultRegion = defaultRegion;
  }

  /** An import as the API shows it. */
  public record ImportView(
      String id,
      String status,
      long rows,
      long accepted,
      long duplicates,
      long rejected,
      long errorCount,
      List<RowError> errors,
      String failure,
      Instant receivedAt,
      Instant finishedAt) {
    static ImportView of(ImportStatus s) {
      return new ImportView(
          s.importId(),
          s.status().name().toLowerCase(Locale.ROOT),
          s.rows(),
          s.accepted(),
          s.duplicates(),
          s.rejected(),
          s.errorCount(),
          s.errors(),
          s.failure(),
          s.receivedAt(),
          s.finishedAt());
    }
  }

  public Route route() {
    return concat(
        path(
            segment("v1").slash("imports"),
            () ->
                post(
                    () ->
                        endpoint(
                            "POST /v1/imports",
                            () ->
                                withRequestTimeout(
                                    UPLOAD_TIMEOUT,
                                    () -> authenticated(Role.OPERATOR, this::upload))))),
        path(
            segment("v1").slash("imports").slash(segment()),
            id ->
                get(
                    () ->
                        endpoint(
                            "GET /v1/imports/{id}",
                            () -> authenticated(Role.VIEWER, p -> show(p, id))))));
  }

  private Route show(Principal p, String id) {
    if (!IMPORT_ID.matcher(id).matches()) {
      return problem(Problem.Type.NOT_FOUND.with("import " + id + " does not exist"));
    }
    return answer(status(p.tenantId(), id), s -> json(ImportView.of(s)));
  }

  private Route upload(Principal p) {
    return extractRequestEntity(
        entity -> {
          var type = entity.getContentType().mediaType();
          if (!(type.mainType().equals("text") && type.subType().equals("csv"))) {
            return problem(
                Problem.Type.UNSUPPORTED_MEDIA_TYPE.with(
                    "an import body must be text/csv, not " + type));
          }
          if (entity.getContentLengthOption().isPresent()
              && entity.getContentLengthOption().getAsLong() > maxUploadBytes) {
            return discarding(
                entity,
                problem(
                    Problem.Type.PAYLOAD_TOO_LARGE.with(
                        "the upload exceeds the limit of " + maxUploadBytes + " bytes")));
          }
          return optionalHeaderValueByName(
              "Idempotency-Key",
              key -> {
                if (key.isPresent() && !IDEMPOTENCY_KEY.matcher(key.get()).matches()) {
                  return discarding(
                      entity,
                      problem(
                          Problem.Type.VALIDATION.with(
                              "Idempotency-Key must be 1-255 visible ASCII characters")));
                }
                return answer(
                    tenant(p.tenantId()),
                    tenant ->
                        answer(
                            blocking(
                                () -> key.flatMap(k -> ledger.byIdempotencyKey(p.tenantId(), k))),
                            existing ->
                                existing.isPresent()
                                    ? discarding(
                                        entity, existingImport(p.tenantId(), existing.get()))
                                    : receive(p, tenant, entity, key)));
              });
        });
  }

  private Route receive(Principal p, Tenant tenant, HttpEntity entity, Optional<String> key) {
    AtomicInteger underWay =
        uploadsUnderWay.computeIfAbsent(p.tenantId(), t -> new AtomicInteger());
    if (underWay.incrementAndGet() > maxConcurrentUploads) {
      underWay.decrementAndGet();
      log.warn(
          "tenant {}: upload refused, {} already under way", p.tenantId(), maxConcurrentUploads);
      return discarding(
          entity,
          problem(
              Problem.Type.TOO_MANY_REQUESTS.with(
                  "at most "
                      + maxConcurrentUploads
                      + " uploads of a tenant may be under way at once; retry when one is done"),
              RetryAfter.create(5L)));
    }
    InputStream body =
        entity
            .withSizeLimit(maxUploadBytes)
            .getDataBytes()
            .runWith(StreamConverters.asInputStream(Duration.ofSeconds(60)), system);
    CompletionStage<Received> stored =
        CompletableFuture.supplyAsync(() -> store(p.tenantId(), body, key), uploadsPool)
            .whenComplete((r, e) -> underWay.decrementAndGet());
    return answer(
        stored,
        received -> {
          if (received.existing().isPresent()) {
            return existingImport(p.tenantId(), received.existing().get());
          }
          ImportSpec spec =
              new ImportSpec(
                  p.tenantId(),
                  received.importId(),
                  received.sha256(),
                  received.bytes(),
                  defaultRegion,
                  tenant.timezone(),
                  Instant.now());
          CompletionStage<ImportStatus> started =
              sharding
                  .entityRefFor(ImportJob.ENTITY_TYPE_KEY, spec.entityId())
                  .askWithStatus(r -> new ImportJob.Start(spec, r), askTimeout);
          return answer(
              started,
              s ->
                  respondWithHeader(
                      Location.create("/v1/imports/" + s.importId()),
                      () -> json(StatusCodes.ACCEPTED, ImportView.of(s))));
        });
  }

  /** What receiving an upload produced: a new stored upload, or the import it repeats. */
  private record Received(String importId, String sha256, long bytes, Optional<String> existing) {}

  /**
   * Copies the body into tenant storage while hashing it; the header is checked from the first
   * bytes, before the rest is read. Runs on the blocking dispatcher.
   */
  private Received store(String tenantId, InputStream body, Optional<String> key) {
    try (InputStream in = body;
        UploadStore.Pending pending = uploads.begin(tenantId)) {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      Recording recording = new Recording(in, pending.output(), sha);
      // Not closed: closing would close the body; the reader only serves to read the header.
      @SuppressWarnings("resource")
      CsvRecords records =
          CsvRecords.open(new InputStreamReader(recording, StandardCharsets.UTF_8));
      Optional<String> headerProblem = LeadColumns.of(records.header()).headerProblem();
      if (headerProblem.isPresent()) {
        throw new ProblemException(Problem.Type.VALIDATION.with(headerProblem.get()));
      }
      recording.transferTo(OutputStream.nullOutputStream());
      pending.output().flush();
      String hex = HexFormat.of().formatHex(sha.digest());
      Optional<String> same = ledger.bySha256(tenantId, hex);
      if (same.isPresent()) {
        return new Received(same.get(), hex, recording.bytes, same);
      }
      String importId = "imp_" + randomId();
      Optional<String> raced = ledger.register(tenantId, importId, hex, key);
      if (raced.isPresent()) {
        return new Received(raced.get(), hex, recording.bytes, raced);
      }
      pending.commit(importId);
      return new Received(importId, hex, recording.bytes, Optional.empty());
    } catch (CsvFormatException e) {
      throw new ProblemException(
          Problem.Type.VALIDATION.with("the CSV header cannot be read: " + e.getMessage()));
    } catch (IOException e) {
      // The client's stream ended, stalled or exceeded the limit: the cause says which.
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String randomId() {
    byte[] b = new byte[10];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private Route existingImport(String tenantId, String importId) {
    return answer(status(tenantId, importId), s -> json(ImportView.of(s)));
  }

  private Route discarding(HttpEntity entity, Route then) {
    entity.discardBytes(system);
    return then;
  }

  private CompletionStage<ImportStatus> status(String tenantId, String importId) {
    return sharding
        .entityRefFor(ImportJob.ENTITY_TYPE_KEY, ImportJob.entityId(tenantId, importId))
        .askWithStatus(ImportJob.Get::new, askTimeout);
  }

  private CompletionStage<Tenant> tenant(String tenantId) {
    return sharding
        .entityRefFor(TenantEntity.ENTITY_TYPE_KEY, tenantId)
        .askWithStatus(TenantEntity.Get::new, askTimeout);
  }

  /** Copies every byte read into the upload file and the digest. */
  private static final class Recording extends FilterInputStream {
    private final OutputStream copy;
    private final MessageDigest digest;
    long bytes;

    Recording(InputStream in, OutputStream copy, MessageDigest digest) {
      super(in);
      this.copy = copy;
      this.digest = digest;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        copy.write(b);
        digest.update((byte) b);
        bytes++;
      }
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      int n = super.read(buf, off, len);
      if (n > 0) {
        copy.write(buf, off, n);
        digest.update(buf, off, n);
        bytes += n;
      }
      return n;
    }
  }
}
