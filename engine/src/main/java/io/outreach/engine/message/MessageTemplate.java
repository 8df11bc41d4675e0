package io.outreach.engine.message;

import com.samskivert.mustache.BasicCollector;
import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.MustacheException;
import com.samskivert.mustache.Template;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A campaign's message text with Mustache placeholders for lead fields, such as {@code Hi
 * {{first_name}}, {{company}} ...}: parsed once when the campaign is created and rendered for each
 * recipient.
 *
 * <p>Names are the lead's fields ({@code first_name, last_name, company, city, state, zip, email,
 * phone}) and any attribute column of its import. A placeholder whose field is missing or blank
 * makes the render {@link Rendered.Missing} rather than text with a hole in it. A template makes a
 * field optional by using it only inside its own section, with an inverted section as the fallback:
 * {@code Hi {{#first_name}}{{first_name}}{{/first_name}}{{^first_name}}there{{/first_name}}}.
 *
 * <p>Instances are immutable and safe to render from many threads.
 */
public final class MessageTemplate {

  private static final Mustache.Compiler COMPILER =
      Mustache.compiler()
          // SMS is plain text: "AT&T" must arrive as "AT&T", not "AT&amp;T".
          .escapeHTML(false)
          // A blank field is as absent as a missing one, so {{^field}} gives the fallback for both.
          .emptyStringIsFalse(true)
          .withCollector(new FieldCollector());

  /** Names that Mustache gives a meaning of its own, so no lead field can be reached by them. */
  private static final Set<String> RESERVED = Set.of(".", "this", "-first", "-last", "-index");

  private final String source;
  private final Template template;
  private final List<String> fieldNames;

  private MessageTemplate(String source, Template template, List<String> fieldNames) {
    this.source = source;
    this.template = template;
    this.fieldNames = fieldNames;
  }

  /**
   * Parses a template.
   *
   * @throws TemplateException on a Mustache syntax error (unclosed tag or section, mismatched
   *     section end) or a construct a text message cannot use: partials, template inheritance,
   *     dotted or reserved names
   */
  public static MessageTemplate parse(String source) {
    Objects.requireNonNull(source, "source");
    Template template;
    try {
      template = COMPILER.compile(source);
    } catch (MustacheException e) {
      throw new TemplateException("template syntax error: " + e.getMessage(), e);
    }
    FieldNames names = new FieldNames();
    template.visit(names);
    if (!names.problems.isEmpty()) {
      throw new TemplateException(String.join("; ", names.problems));
    }
    return new MessageTemplate(source, template, List.copyOf(names.names));
  }

  /** The template as written. */
  public String source() {
    return source;
  }

  /**
   * Every field the template refers to, as a placeholder or a section, in order of first use and
   * without repeats; lets a campaign check its template against the columns of its leads.
   */
  public List<String> fieldNames() {
    return fieldNames;
  }

  /**
   * Fills the template with one recipient's fields.
   *
   * @param fields field name to value; a null or blank value counts as missing
   * @return the text, or the fields it would have needed and the recipient lacks
   */
  public Rendered render(Map<String, String> fields) {
    Map<String, String> context = new HashMap<>();
    fields.forEach(
        (name, value) -> {
          if (value != null && !value.isBlank()) {
            context.put(name, value);
          }
        });
    // jmustache stops at the first placeholder it cannot fill and names it. Rendering again with
    // that field set to "" (still false for sections) finds the next one, so the answer lists every
    // missing field: at most one extra pass per field of the template.
    List<String> missing = new ArrayList<>();
    while (true) {
      try {
        String body = template.execute(context);
        return missing.isEmpty() ? new Rendered.Text(body) : new Rendered.Missing(missing);
      } catch (MustacheException.Context e) {
        if (e.key == null || context.containsKey(e.key)) {
          throw e; // not a missing field: a bug, not a recipient to block
        }
        missing.add(e.key);
        context.put(e.key, "");
      }
    }
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof MessageTemplate that && source.equals(that.source);
  }

  @Override
  public int hashCode() {
    return source.hashCode();
  }

  @Override
  public String toString() {
    return source;
  }

  /** Collects the names a template refers to, and what in it a text message cannot use. */
  private static final class FieldNames implements Mustache.Visitor {
    final Set<String> names = new LinkedHashSet<>();
    final List<String> problems = new ArrayList<>();

    @Override
    public void visitText(String text) {
      // jmustache passes a tag it cannot close through as text; a lead would receive it literally.
      for (String brace : List.of("{{", "}}")) {
        int at = text.indexOf(brace);
        if (at >= 0) {
          String near = text.substring(Math.max(0, at - 10), Math.min(text.length(), at + 20));
          problems.add("template syntax error: unmatched '" + brace + "' near \"" + near + "\"");
        }
      }
    }

    @Override
    public void visitVariable(String name) {
      field("{{" + name + "}}", name);
    }

    @Override
    public boolean visitSection(String name) {
      field("{{#" + name + "}}", name);
      return true;
    }

    @Override
    public boolean visitInvertedSection(String name) {
      field("{{^" + name + "}}", name);
      return true;
    }

    @Override
    public boolean visitInclude(String name) {
      problems.add("{{>" + name + "}}: partials are not supported");
      return false;
    }

    @Override
    public boolean visitParent(String name) {
      problems.add("{{<" + name + "}}: template inheritance is not supported");
      return false;
    }

    @Override
    public boolean visitBlock(String name) {
      problems.add("{{$" + name + "}}: template inheritance is not supported");
      return false;
    }

    private void field(String tag, String name) {
      if (RESERVED.contains(name)) {
        problems.add(tag + ": '" + name + "' is reserved by Mustache, not a lead field");
      } else if (name.contains(".")) {
        // Mustache would look up "a.b" as field b of field a, which a lead's text fields lack.
        problems.add(tag + ": a field name cannot contain '.'");
      } else {
        names.add(name);
      }
    }
  }

  /**
   * Looks names up in maps only. jmustache's default collector also reflects on the object in
   * context, and inside {@code {{#company}}} that is the company's String: a field named {@code
   * empty} or {@code bytes} would then render String.isEmpty() or getBytes() instead of the lead's
   * field.
   */
  private static final class FieldCollector extends BasicCollector {
    @Override
    public <K, V> Map<K, V> createFetcherCache() {
      // Shared by every render of every template, from any thread.
      return new ConcurrentHashMap<>();
    }
  }
}
