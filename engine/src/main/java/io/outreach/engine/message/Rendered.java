package io.outreach.engine.message;

import java.util.List;

/** What {@link MessageTemplate#render} made of one recipient's fields. */
public sealed interface Rendered {

  /** The text to send, every placeholder filled. */
  record Text(String body) implements Rendered {}

  /**
   * The template needs fields this recipient lacks (or has blank), so no text was made: sending "Hi
   * ," would be worse than not sending, and the recipient is blocked as {@code invalid}.
   *
   * @param fieldNames the missing fields, in the order the template uses them
   */
  record Missing(List<String> fieldNames) implements Rendered {
    public Missing {
      fieldNames = List.copyOf(fieldNames);
    }
  }
}
