package io.outreach.http;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * A page of a list endpoint, {@code {"items": [...], "next": "<cursor or null>"}}, and the parsing
 * of {@code ?limit=} (default 50, at most 500) and the opaque {@code ?cursor=}.
 */
public record ListPage<T>(List<T> items, String next) {
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 500;

  /** The validated paging parameters: how many, and the position to continue after. */
  record Request(int limit, Optional<Long> after) {}

  static Request request(Optional<String> limit, Optional<String> cursor) {
    int n = DEFAULT_LIMIT;
    if (limit.isPresent()) {
      try {
        n = Integer.parseInt(limit.get());
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n < 1 || n > MAX_LIMIT) {
        throw new ProblemException(
            Problem.Type.VALIDATION.with("limit must be a whole number from 1 to " + MAX_LIMIT));
      }
    }
    return new Request(n, cursor.map(ListPage::decode));
  }

  static String encode(long position) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(("p" + position).getBytes(StandardCharsets.UTF_8));
  }

  private static long decode(String cursor) {
    try {
      String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      if (s.startsWith("p")) {
        return Long.parseLong(s.substring(1));
      }
    } catch (IllegalArgumentException e) {
      // falls through to the problem below
    }
    throw new ProblemException(Problem.Type.VALIDATION.with("cursor is not one this API issued"));
  }
}
