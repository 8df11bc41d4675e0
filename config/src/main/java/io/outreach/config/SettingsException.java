package io.outreach.config;

/** A configuration value is missing or invalid; the message names the key. */
public final class SettingsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  SettingsException(String key, String problem) {
    super("invalid setting " + key + ": " + problem);
  }

  SettingsException(String message, Throwable cause) {
    super("invalid configuration: " + message, cause);
  }
}
