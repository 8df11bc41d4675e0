package io.outreach.engine;

import java.util.Optional;
import org.apache.pekko.pattern.StatusReply;

/**
 * Why an entity refused a command. Travels inside {@link StatusReply#error(String)} as a message
 * {@code "<kind>: <detail>"} so that it stays serializable across nodes, and the HTTP layer maps
 * the kind to a status code.
 */
public record Rejection(Kind kind, String detail) {

  /** The classes of refusal the API distinguishes. */
  public enum Kind {
    INVALID("invalid"),
    NOT_FOUND("not-found"),
    CONFLICT("conflict");

    private final String code;

    Kind(String code) {
      this.code = code;
    }

    public String code() {
      return code;
    }
  }

  public static <T> StatusReply<T> invalid(String detail) {
    return new Rejection(Kind.INVALID, detail).reply();
  }

  public static <T> StatusReply<T> notFound(String detail) {
    return new Rejection(Kind.NOT_FOUND, detail).reply();
  }

  public static <T> StatusReply<T> conflict(String detail) {
    return new Rejection(Kind.CONFLICT, detail).reply();
  }

  public <T> StatusReply<T> reply() {
    return StatusReply.error(kind.code + ": " + detail);
  }

  /** Reads a rejection back from a {@link StatusReply} error message, if it is one. */
  public static Optional<Rejection> parse(String message) {
    if (message == null) {
      return Optional.empty();
    }
    for (Kind k : Kind.values()) {
      String prefix = k.code + ": ";
      if (message.startsWith(prefix)) {
        return Optional.of(new Rejection(k, message.substring(prefix.length())));
      }
    }
    return Optional.empty();
  }
}
