package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every endpoint template a route class names (a literal such as {@code "GET /v1/tenant"}) is
 * documented in /openapi.json with its method.
 */
class OpenApiTest {
  private static final Pattern ENDPOINT =
      Pattern.compile("\"(GET|POST|PUT|PATCH|DELETE) (/[^\"]*)\"");

  @Test
  void everyDeclaredEndpointIsDocumented() throws IOException {
    JsonNode api;
    try (InputStream in = OpenApiTest.class.getResourceAsStream("/openapi.json")) {
      api = new ObjectMapper().readTree(in);
    }
    assertThat(api.get("openapi").asText()).isEqualTo("3.1.0");
    List<String> declared = new ArrayList<>();
    try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher m = ENDPOINT.matcher(Files.readString(f));
        while (m.find()) {
          declared.add(m.group(1) + " " + m.group(2));
        }
      }
    }
    assertThat(declared).hasSizeGreaterThan(15);
    List<String> missing =
        declared.stream()
            .filter(
                e -> {
                  String[] parts = e.split(" ", 2);
                  return !api.path("paths").path(parts[1]).has(parts[0].toLowerCase(Locale.ROOT));
                })
            .toList();
    assertThat(missing).as("endpoints missing from openapi.json").isEmpty();
  }
}
