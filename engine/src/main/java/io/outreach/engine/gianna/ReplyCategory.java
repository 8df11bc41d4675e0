package io.outreach.engine.gianna;

import java.util.Locale;
import java.util.Optional;

/** What a person's reply means, as Gianna classifies it. */
public enum ReplyCategory {
  INTERESTED,
  NOT_INTERESTED,
  QUESTION,
  OPT_OUT,
  WRONG_NUMBER,
  HOSTILE,
  OTHER;

  /** The category's name in the API and the model's output: {@code not_interested}. */
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The category named {@code code}, if it is one. */
  public static Optional<ReplyCategory> of(String code) {
    if (code == null) {
      return Optional.empty();
    }
    for (ReplyCategory c : values()) {
      if (c.code().equals(code.trim().toLowerCase(Locale.ROOT))) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}
