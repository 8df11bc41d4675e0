package io.outreach.http;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Duration;
import java.util.Map;

/**
 * An RFC 9457 problem document. {@code type} is a stable URN per class of error (listed in
 * docs/problems.md); {@code extensions} become extra top-level members; {@code retryAfter}, when
 * known, is the {@code Retry-After} of a 503 (else the API's default).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(
    String type,
    String title,
    int status,
    String detail,
    @JsonIgnore Map<String, Object> extensions,
    @JsonIgnore Duration retryAfter) {

  public static final String MEDIA_TYPE = "application/problem+json";

  /** The classes of error the API answers with. */
  public enum Type {
    VALIDATION(400, "validation", "Invalid request"),
    MALFORMED(400, "malformed-request", "Malformed request"),
    UNAUTHORIZED(401, "unauthorized", "Unauthorized"),
    FORBIDDEN(403, "forbidden", "Forbidden"),
    NOT_FOUND(404, "not-found", "Not found"),
    METHOD_NOT_ALLOWED(405, "method-not-allowed", "Method not allowed"),
    CONFLICT(409, "conflict", "Conflict"),
    ACCOUNT_MISSING(409, "provider-account-missing", "Provider account missing"),
    PAYLOAD_TOO_LARGE(413, "payload-too-large", "Payload too large"),
    UNSUPPORTED_MEDIA_TYPE(415, "unsupported-media-type", "Unsupported media type"),
    TOO_MANY_REQUESTS(429, "too-many-requests", "Too many requests"),
    INTERNAL(500, "internal", "Internal error"),
    UNAVAILABLE(503, "unavailable", "Service unavailable");

    final int status;
    final String slug;
    final String title;

    Type(int status, String slug, String title) {
      this.status = status;
      this.slug = slug;
      this.title = title;
    }

    public String uri() {
      return "urn:outreach:problem:" + slug;
    }

    public Problem with(String detail) {
      return new Problem(uri(), title, status, detail, Map.of(), null);
    }

    /** The type used for a status that has no more specific one. */
    static Type forStatus(int status) {
      for (Type t : values()) {
        if (t.status == status && t != MALFORMED) {
          return t;
        }
      }
      return status >= 500 ? INTERNAL : MALFORMED;
    }
  }

  @JsonAnyGetter
  Map<String, Object> extensionMembers() {
    return extensions == null ? Map.of() : extensions;
  }

  public Problem withExtension(String name, Object value) {
    var ext = new java.util.LinkedHashMap<String, Object>(extensionMembers());
    ext.put(name, value);
    return new Problem(type, title, status, detail, ext, retryAfter);
  }

  /** The problem with the {@code Retry-After} its cause gave (null: the API's default). */
  public Problem retryingAfter(Duration after) {
    return new Problem(type, title, status, detail, extensions, after);
  }
}
