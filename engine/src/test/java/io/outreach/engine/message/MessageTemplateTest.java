package io.outreach.engine.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Templates fill in lead fields, and refuse to send a text with a hole where a field was. */
class MessageTemplateTest {

  private static final String FRIENDLY_GREETING =
      "Hi {{#first_name}}{{first_name}}{{/first_name}}{{^first_name}}there{{/first_name}}!";

  @Test
  void fillsLeadFieldsAndAttributes() {
    MessageTemplate template =
        MessageTemplate.parse("Hi {{first_name}}, {{company}} in {{city}}, {{state}}: {{plan}}");

    assertThat(
            template.render(
                Map.of(
                    "first_name", "Ann",
                    "company", "Acme",
                    "city", "Austin",
                    "state", "TX",
                    "plan", "Gold")))
        .isEqualTo(new Rendered.Text("Hi Ann, Acme in Austin, TX: Gold"));
  }

  @Test
  void doesNotEscapeHtml() {
    MessageTemplate template = MessageTemplate.parse("{{company}} <3 {{{company}}}");

    assertThat(template.render(Map.of("company", "AT&T \"Wireless\" <x>")))
        .isEqualTo(new Rendered.Text("AT&T \"Wireless\" <x> <3 AT&T \"Wireless\" <x>"));
  }

  @Test
  void missingOrBlankFieldsMakeTheRenderMissing() {
    MessageTemplate template =
        MessageTemplate.parse("Hi {{first_name}} {{last_name}} of {{company}}, {{first_name}}");
    Map<String, String> fields = new HashMap<>();
    fields.put("first_name", " ");
    fields.put("company", null);

    assertThat(template.render(fields))
        .isEqualTo(new Rendered.Missing(List.of("first_name", "last_name", "company")));
    assertThat(template.render(Map.of("first_name", "Ann", "company", "")))
        .isEqualTo(new Rendered.Missing(List.of("last_name", "company")));
  }

  @Test
  void invertedSectionGivesTheFallback() {
    MessageTemplate template = MessageTemplate.parse(FRIENDLY_GREETING);

    assertThat(template.render(Map.of("first_name", "Ann")))
        .isEqualTo(new Rendered.Text("Hi Ann!"));
    assertThat(template.render(Map.of())).isEqualTo(new Rendered.Text("Hi there!"));
    assertThat(template.render(Map.of("first_name", "  ")))
        .isEqualTo(new Rendered.Text("Hi there!"));
    assertThat(template.render(Map.of("first_name", ""))).isEqualTo(new Rendered.Text("Hi there!"));
  }

  @Test
  void aFieldInsideAnotherFieldsSectionIsNeededOnlyWhenThatSectionShows() {
    MessageTemplate template =
        MessageTemplate.parse("Hi{{#company}} from {{company}} in {{city}}{{/company}}.");

    assertThat(template.render(Map.of())).isEqualTo(new Rendered.Text("Hi."));
    assertThat(template.render(Map.of("company", "Acme", "city", "Austin")))
        .isEqualTo(new Rendered.Text("Hi from Acme in Austin."));
    assertThat(template.render(Map.of("company", "Acme")))
        .isEqualTo(new Rendered.Missing(List.of("city")));
  }

  @Test
  void aFieldUsedOutsideItsSectionIsStillRequired() {
    MessageTemplate template =
        MessageTemplate.parse(FRIENDLY_GREETING + " {{first_name}}, you there?");

    assertThat(template.render(Map.of())).isEqualTo(new Rendered.Missing(List.of("first_name")));
  }

  @Test
  void fieldsNamedLikeStringMethodsStillReadTheLead() {
    // Inside {{#company}} the context is the company's String; "empty" must not be isEmpty().
    MessageTemplate template = MessageTemplate.parse("{{#company}}{{empty}}{{/company}}");

    assertThat(template.render(Map.of("company", "Acme", "empty", "yes")))
        .isEqualTo(new Rendered.Text("yes"));
    assertThat(template.render(Map.of("company", "Acme")))
        .isEqualTo(new Rendered.Missing(List.of("empty")));
  }

  @Test
  void listsTheFieldsItReferencesOnce() {
    MessageTemplate template =
        MessageTemplate.parse(
            FRIENDLY_GREETING + " {{company}} {{^zip}}{{city}}{{/zip}} {{company}}");

    assertThat(template.fieldNames()).containsExactly("first_name", "company", "zip", "city");
    assertThat(MessageTemplate.parse("No fields here.").fieldNames()).isEmpty();
    assertThat(MessageTemplate.parse("{{! a comment }}x").fieldNames()).isEmpty();
  }

  @Test
  void keepsItsSource() {
    assertThat(MessageTemplate.parse(FRIENDLY_GREETING).source()).isEqualTo(FRIENDLY_GREETING);
    assertThat(MessageTemplate.parse(FRIENDLY_GREETING))
        .isEqualTo(MessageTemplate.parse(FRIENDLY_GREETING));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Hi {{#first_name}}{{first_name}}",
        "Hi {{first_name}}{{/first_name}}",
        "Hi {{#first_name}}{{first_name}}{{/last_name}}",
        "Hi {{first_name",
        "Hi {{first_name}",
        "Hi {first_name}}",
        "Hi {{#first_name}}{{first_name}{{/first_name}}",
      })
  void syntaxErrorsAreTemplateExceptions(String source) {
    assertThatThrownBy(() -> MessageTemplate.parse(source))
        .isInstanceOf(TemplateException.class)
        .hasMessageStartingWith("template syntax error: ");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"Hi {{> signature}}", "Hi {{lead.first_name}}", "Hi {{.}}", "{{#this}}x{{/this}}"})
  void constructsWithoutMeaningForATextAreTemplateExceptions(String source) {
    assertThatThrownBy(() -> MessageTemplate.parse(source))
        .isInstanceOf(TemplateException.class)
        .hasMessageContaining("{{");
  }

  @Test
  void rendersFromManyThreads() {
    MessageTemplate template = MessageTemplate.parse(FRIENDLY_GREETING + " {{company}}");

    List<Rendered> results =
        IntStream.range(0, 200)
            .mapToObj(
                i ->
                    CompletableFuture.supplyAsync(
                        () ->
                            i % 2 == 0
                                ? template.render(Map.of("first_name", "N" + i, "company", "C"))
                                : template.render(Map.of())))
            .toList()
            .stream()
            .map(CompletableFuture::join)
            .toList();

    for (int i = 0; i < results.size(); i++) {
      assertThat(results.get(i))
          .isEqualTo(
              i % 2 == 0
                  ? new Rendered.Text("Hi N" + i + "! C")
                  : new Rendered.Missing(List.of("company")));
    }
  }
}
