package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.outreach.engine.intake.ImportOutcome;
import io.outreach.engine.intake.ImportSpec;
import io.outreach.engine.intake.LeadIntake.PermanentFailure;
import io.outreach.engine.intake.UploadStore;
import io.outreach.engine.lead.CsvRecords;
import io.outreach.engine.lead.LeadColumns;
import io.outreach.engine.lead.LeadNormalizer;
import io.outreach.engine.lead.NormalizedLead;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The import's merge against a plain model of the dedup rule, on generated files full of repeated
 * numbers and emails, for chunk sizes that put every kind of duplicate inside a chunk, across
 * chunks, and against leads of an earlier import: the leads and counts must be the same whichever
 * way the rows were merged (optimistic chunks, set-wise at the end, or both).
 */
class LeadImportProcessorIT {

  @RegisterExtension static final EmbeddedDatabaseExtension DB = new EmbeddedDatabaseExtension();

  private static final String REGION = "US";
  private static final String ZONE = "America/New_York";
  private static final String HEADER =
      "first_name,last_name,phone,email,company,state,zip,consent_at,plan,color";
  private static final AtomicInteger TENANTS = new AtomicInteger();
  private static final AtomicInteger IMPORTS = new AtomicInteger();

  private static Path uploadDir;
  private static UploadStore uploads;
  private static ImportLedger ledger;

  @BeforeAll
  static void setUp() throws IOException {
    uploadDir = Files.createTempDirectory("outreach-import-test");
    uploads = new PostgresUploadStore(DB.database().tenantJdbc());
    ledger = new ImportLedger(DB.database().tenantJdbc());
  }

  @AfterAll
  static void tearDown() {
    EmbeddedDatabaseExtension.deleteRecursively(uploadDir);
  }

  @ParameterizedTest(name = "chunks of {0} rows")
  @ValueSource(ints = {1, 2, 3, 7, 40, 1_000_000})
  void mergesLikeTheModelWhateverTheChunks(int chunkRows) throws Exception {
    String tenant = newTenant();
    Random random = new Random(7);
    Model model = new Model();
    // An earlier import makes some numbers and emails known; then files that repeat them.
    for (int file = 0; file < 3; file++) {
      String csv = generate(random, 300);
      ImportOutcome outcome = runImport(tenant, csv, chunkRows);
      ImportOutcome expected = model.importFile(csv);
      assertThat(outcome).as("file %d", file).isEqualTo(expected);
      assertThat(storedLeads(tenant)).as("file %d", file).isEqualTo(model.leads());
    }
  }

  /** One row per chunk: past MAX_CHUNKS savepoints the rest is merged set-wise, still in order. */
  @Test
  void aFileOfNewNumbersKeepsFileOrderAcrossChunksAndTheSavepointCap() throws Exception {
    String tenant = newTenant();
    StringBuilder csv = new StringBuilder("first_name,phone\n");
    for (int i = 0; i < 100; i++) {
      csv.append("n").append(i).append(",+1212555").append(String.format("%04d", i)).append('\n');
    }
    assertThat(100).isGreaterThan(LeadImportProcessor.MAX_CHUNKS);
    ImportOutcome outcome = runImport(tenant, csv.toString(), 1);
    assertThat(outcome.accepted()).isEqualTo(100);
    assertThat(outcome.duplicates()).isZero();
    List<String> names =
        DB.database()
            .tenantJdbc()
            .inTenant(
                tenant,
                c -> {
                  List<String> out = new ArrayList<>();
                  try (PreparedStatement ps =
                          c.prepareStatement("select first_name from leads order by seq");
                      ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                      out.add(rs.getString(1));
                    }
                  }
                  return out;
                });
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      expected.add("n" + i);
    }
    assertThat(names).isEqualTo(expected);
  }

  @Test
  void aBrokenFileFailsAfterManyChunksAndLeavesNothing() throws Exception {
    String tenant = newTenant();
    StringBuilder csv = new StringBuilder("first_name,phone\n");
    for (int i = 0; i < 50; i++) {
      csv.append("n").append(i).append(",+1212555").append(String.format("%04d", i)).append('\n');
    }
    csv.append("\"unterminated,+12125559999\n");
    assertThatThrownBy(() -> runImport(tenant, csv.toString(), 4))
        .isInstanceOf(PermanentFailure.class)
        .hasMessageContaining("row 51");
    assertThat(storedLeads(tenant)).isEmpty();
    assertThatThrownBy(() -> runImport(tenant, "first_name,company\nAnn,Acme\n", 4))
        .isInstanceOf(PermanentFailure.class)
        .hasMessageContaining("phone");
  }

  @Test
  void storesEveryCharacterAsGiven() throws Exception {
    String tenant = newTenant();
    String csv =
        "first_name,last_name,phone,email,company,timezone,consent_at,note\n"
            + "\"Zoë 😀 \\N\",\"line\n"
            + "break\",+12125550100,,\"a"
            + "\tb\\c\",America/Argentina/Buenos_Aires,2026-03-01T10:15:30.123456Z,\"ctl \u0001"
            + " \"\"q\"\" \\ \u00e9 \u4e2d \ud83d\ude00\"\n";
    Model model = new Model();
    ImportOutcome expected = model.importFile(csv);
    assertThat(runImport(tenant, csv, 1)).isEqualTo(expected);
    assertThat(storedLeads(tenant)).isEqualTo(model.leads());
    assertThat(storedLeads(tenant).values().iterator().next())
        .contains("Zoë 😀 \\N", "line\nbreak", "a\tb\\c", "ctl \u0001 \"q\" \\ é 中 😀")
        .contains("2026-03-01T10:15:30.123456Z", "[America/Argentina/Buenos_Aires]");
  }

  @Test
  void anotherTenantsLeadsAreNeitherSeenNorTouched() throws Exception {
    String csv = generate(new Random(11), 200);
    String first = newTenant();
    String second = newTenant();
    ImportOutcome a = runImport(first, csv, 5);
    Map<String, String> firstLeads = storedLeads(first);
    ImportOutcome b = runImport(second, csv, 5);
    assertThat(b).isEqualTo(a);
    assertThat(storedLeads(first)).isEqualTo(firstLeads);
    assertThat(storedLeads(second)).isEqualTo(firstLeads);
  }

  private static String newTenant() {
    return "imp-test-" + TENANTS.incrementAndGet();
  }

  /**
   * Rows drawing phones and emails from small pools, written in several formats, with blank cells,
   * so that rows repeat each other within and across files; a few rows are invalid.
   */
  private static String generate(Random random, int rows) {
    String[] phones = new String[60];
    for (int i = 0; i < phones.length; i++) {
      phones[i] = String.format("212555%04d", 100 + i);
    }
    StringBuilder csv = new StringBuilder(HEADER).append('\n');
    for (int i = 0; i < rows; i++) {
      String phone = "";
      int kind = random.nextInt(10);
      if (kind < 6) {
        String digits = phones[random.nextInt(phones.length)];
        phone =
            switch (random.nextInt(3)) {
              case 0 -> "+1" + digits;
              case 1 ->
                  "("
                      + digits.substring(0, 3)
                      + ") "
                      + digits.substring(3, 6)
                      + "-"
                      + digits.substring(6);
              default -> digits;
            };
      } else if (kind == 6) {
        phone = "12";
      }
      String email = random.nextInt(3) == 0 ? "" : "p" + random.nextInt(40) + "@Example.com";
      if (phone.isEmpty() && email.isEmpty()) {
        email = "only" + random.nextInt(5) + "@example.com";
      }
      csv.append(
              String.join(
                  ",",
                  maybe(random, "F" + i),
                  maybe(random, "L" + i),
                  phone,
                  email,
                  maybe(random, "\"Co, " + i + "\""),
                  maybe(random, "NY"),
                  maybe(random, String.format("%05d", i)),
                  random.nextInt(8) == 0 ? "2026-0" + (1 + random.nextInt(9)) + "-01" : "",
                  maybe(random, "plan" + random.nextInt(3)),
                  maybe(random, "\"tab\there\\ \"\"q\"\" é\"")))
          .append('\n');
    }
    return csv.toString();
  }

  private static String maybe(Random random, String value) {
    return random.nextBoolean() ? value : "";
  }

  private static ImportOutcome runImport(String tenant, String csv, int chunkRows)
      throws IOException {
    String importId = String.format("imp_test%08d", IMPORTS.incrementAndGet());
    try (UploadStore.Pending pending = uploads.begin(tenant)) {
      try (OutputStream out = pending.output()) {
        out.write(csv.getBytes(StandardCharsets.UTF_8));
      }
      pending.commit(importId);
    }
    assertThat(ledger.register(tenant, importId, importId, Optional.empty())).isEmpty();
    LeadImportProcessor processor =
        new LeadImportProcessor(
            DB.database().tenantJdbc(), uploads, ledger, Runnable::run, chunkRows);
    ImportSpec spec =
        new ImportSpec(tenant, importId, importId, csv.length(), REGION, ZONE, Instant.now());
    ImportOutcome outcome = processor.processNow(spec, rows -> {});
    assertThat(processor.processNow(spec, rows -> {}))
        .as("a re-run answers the outcome")
        .isEqualTo(outcome);
    return outcome;
  }

  /** The tenant's leads as comparable text, keyed by phone or email. */
  private static Map<String, String> storedLeads(String tenant) {
    return DB.database()
        .tenantJdbc()
        .inTenant(
            tenant,
            c -> {
              Map<String, String> out = new TreeMap<>();
              try (PreparedStatement ps =
                      c.prepareStatement(
                          "select phone, email, first_name, last_name, company, address, city,"
                              + " state, zip, timezones, consent_at, consent_source,"
                              + " attributes::text from leads");
                  ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  Array zones = rs.getArray(10);
                  java.sql.Timestamp consent = rs.getTimestamp(11);
                  Lead lead = new Lead();
                  lead.phone = rs.getString(1);
                  lead.email = rs.getString(2);
                  lead.fields =
                      new ArrayList<>(
                          Arrays.asList(
                              rs.getString(3),
                              rs.getString(4),
                              rs.getString(5),
                              rs.getString(6),
                              rs.getString(7),
                              rs.getString(8),
                              rs.getString(9),
                              consent == null ? null : consent.toInstant().toString(),
                              rs.getString(12)));
                  lead.timezones = Arrays.asList((String[]) zones.getArray());
                  lead.attributes = new TreeMap<>(parseAttributes(rs.getString(13)));
                  String key = lead.phone != null ? "p:" + lead.phone : "e:" + lead.email;
                  assertThat(out.put(key, lead.toString())).as("one lead per " + key).isNull();
                }
              }
              return out;
            });
  }

  /** jsonb's text of a flat object of strings, as the model writes it. */
  private static Map<String, String> parseAttributes(String json) {
    try {
      Map<String, String> out = new LinkedHashMap<>();
      new com.fasterxml.jackson.databind.ObjectMapper()
          .readTree(json)
          .properties()
          .forEach(e -> out.put(e.getKey(), e.getValue().asText()));
      return out;
    } catch (IOException e) {
      throw new AssertionError(json, e);
    }
  }

  /** A lead of the model: the fields the merge fills, in a fixed order. */
  private static final class Lead {
    String phone;
    String email;
    List<String> fields;
    List<String> timezones;
    Map<String, String> attributes;

    static Lead of(NormalizedLead n) {
      Lead lead = new Lead();
      lead.phone = n.phone();
      lead.email = n.email();
      lead.fields =
          new ArrayList<>(
              Arrays.asList(
                  n.firstName(),
                  n.lastName(),
                  n.company(),
                  n.address(),
                  n.city(),
                  n.state(),
                  n.zip(),
                  n.consentAt() == null ? null : n.consentAt().toString(),
                  n.consentSource()));
      lead.timezones = n.timezones();
      lead.attributes = new TreeMap<>(n.attributes());
      return lead;
    }

    /** A later row's values go where this lead has none (attributes key by key). */
    void fill(NormalizedLead n) {
      Lead later = of(n);
      if (email == null) {
        email = later.email;
      }
      for (int i = 0; i < fields.size(); i++) {
        if (fields.get(i) == null) {
          fields.set(i, later.fields.get(i));
        }
      }
      later.attributes.forEach(attributes::putIfAbsent);
    }

    @Override
    public String toString() {
      return phone + "|" + email + "|" + fields + "|" + timezones + "|" + attributes;
    }
  }

  /**
   * The dedup rule as README states it, one row at a time: rows with a phone first, in file order,
   * each one a new lead or filling the lead of its number; then rows without a phone, each filling
   * every lead with its email or else becoming a new lead.
   */
  private static final class Model {
    private final List<Lead> leads = new ArrayList<>();

    ImportOutcome importFile(String csv) {
      List<NormalizedLead> valid = new ArrayList<>();
      long rows = 0;
      long errors = 0;
      List<io.outreach.engine.lead.RowError> first = new ArrayList<>();
      LeadNormalizer normalizer = new LeadNormalizer(REGION, ZoneId.of(ZONE));
      try (CsvRecords records = CsvRecords.open(new StringReader(csv))) {
        LeadColumns columns = LeadColumns.of(records.header());
        while (records.hasNext()) {
          rows++;
          LeadNormalizer.Outcome o = normalizer.normalize(records.next(), columns);
          if (o instanceof LeadNormalizer.Accepted a) {
            valid.add(a.lead());
          } else if (o instanceof LeadNormalizer.Rejected r) {
            errors += r.errors().size();
            first.addAll(r.errors());
          }
        }
      }
      long made = 0;
      for (NormalizedLead n : valid) {
        if (n.phone() != null) {
          Optional<Lead> known = leads.stream().filter(l -> n.phone().equals(l.phone)).findFirst();
          if (known.isPresent()) {
            known.get().fill(n);
          } else {
            leads.add(Lead.of(n));
            made++;
          }
        }
      }
      for (NormalizedLead n : valid) {
        if (n.phone() == null) {
          List<Lead> known = leads.stream().filter(l -> n.email().equals(l.email)).toList();
          if (known.isEmpty()) {
            leads.add(Lead.of(n));
            made++;
          } else {
            known.forEach(l -> l.fill(n));
          }
        }
      }
      return new ImportOutcome(
          rows, made, valid.size() - made, rows - valid.size(), errors, List.copyOf(first));
    }

    Map<String, String> leads() {
      Map<String, String> out = new TreeMap<>();
      for (Lead lead : leads) {
        out.put(
            lead.phone != null ? "p:" + lead.phone : "e:" + Objects.requireNonNull(lead.email),
            lead.toString());
      }
      return out;
    }
  }
}
