package io.outreach.engine.message;

/**
 * A message template that cannot be used at all: a Mustache syntax error, or a construct that has
 * no meaning for a text message (a partial, a dotted name). Raised when a campaign is created, so
 * the message says what to fix and where.
 */
public final class TemplateException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TemplateException(String message, Throwable cause) {
    super(message, cause);
  }

  public TemplateException(String message) {
    this(message, null);
  }
}
