package io.outreach.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Only {@link TenantJdbc} binds a tenant: a second place that sets {@code app.tenant_id} would be a
 * second, unreviewed way past row-level security.
 */
class TenantSqlBoundaryTest {

  @Test
  void onlyTenantJdbcSetsTheTenantSetting() throws IOException {
    Path sources = Path.of("src/main/java");
    List<String> offenders;
    try (Stream<Path> files = Files.walk(sources)) {
      offenders =
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(p -> !p.getFileName().toString().equals("TenantJdbc.java"))
              .filter(TenantSqlBoundaryTest::setsTenant)
              .map(Path::toString)
              .toList();
    }
    assertThat(sources.resolve("io/outreach/persistence/TenantJdbc.java")).exists();
    assertThat(offenders).isEmpty();
  }

  private static boolean setsTenant(Path file) {
    try {
      String text = Files.readString(file);
      return text.contains("app.tenant_id");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
