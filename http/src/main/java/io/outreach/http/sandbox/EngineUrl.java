package io.outreach.http.sandbox;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The engine's public base URL as the sandbox knows it, asked each time (an engine knows its port
 * only once bound), and the rule that the twins post only there: a status callback that is not
 * under it is refused, so the sandbox, reachable by anyone who can reach the engine in sandbox
 * mode, cannot be made to post signed requests at other hosts.
 */
final class EngineUrl {
  private final Supplier<String> url;

  EngineUrl(Supplier<String> url) {
    this.url = url;
  }

  /** The base URL without a trailing slash, or null when none is known. */
  String base() {
    String u = url.get();
    if (u == null || u.isBlank()) {
      return null;
    }
    u = u.strip();
    return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
  }

  /**
   * Why the twins refuse to post to {@code callback}, or null when it is under the engine's URL:
   * the same scheme, host and port, and a path at or below the base's (after resolving {@code ..}).
   */
  String refusal(String callback) {
    String base = base();
    if (base == null) {
      return "the sandbox knows no engine URL to post callbacks to (start it with --engine-url or"
          + " OUTREACH_PUBLIC_URL)";
    }
    URI b;
    URI c;
    try {
      b = new URI(base).normalize();
      c = new URI(callback).normalize();
    } catch (URISyntaxException e) {
      return "'" + callback + "' is not a URL";
    }
    String basePath = b.getRawPath() == null ? "" : b.getRawPath();
    basePath = basePath.endsWith("/") ? basePath.substring(0, basePath.length() - 1) : basePath;
    String path = c.getRawPath() == null ? "" : c.getRawPath();
    boolean under =
        c.isAbsolute()
            && c.getHost() != null
            && c.getRawUserInfo() == null
            && lower(c.getScheme()).equals(lower(b.getScheme()))
            && lower(c.getHost()).equals(lower(b.getHost()))
            && port(c) == port(b)
            && (path.equals(basePath) || path.startsWith(basePath + "/"));
    return under ? null : "callbacks go only to the engine, under " + base;
  }

  private static String lower(String s) {
    return s == null ? "" : s.toLowerCase(Locale.ROOT);
  }

  private static int port(URI u) {
    if (u.getPort() >= 0) {
      return u.getPort();
    }
    return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }
}
