package io.outreach.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletionException;
import org.apache.pekko.pattern.AskTimeoutException;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;

class ProblemsTest {
  @Test
  void entityRefusalsMapToTheirStatus() {
    assertThat(ApiDirectives.problemFor(error("invalid: name must be 1-200 characters")).status())
        .isEqualTo(400);
    assertThat(ApiDirectives.problemFor(error("not-found: tenant x does not exist")).status())
        .isEqualTo(404);
    assertThat(ApiDirectives.problemFor(error("conflict: tenant x exists")).detail())
        .isEqualTo("tenant x exists");
  }

  @Test
  void timeoutsAre503AndWrappedCausesAreUnwrapped() {
    Problem p =
        ApiDirectives.problemFor(
            new CompletionException(new AskTimeoutException("Ask timed out on [Actor[x]]")));
    assertThat(p.status()).isEqualTo(503);
    assertThat(p.type()).isEqualTo("urn:outreach:problem:unavailable");
    assertThat(p.detail()).doesNotContain("Actor[");
  }

  @Test
  void unexpectedErrorsAre500WithoutInternals() {
    Problem p =
        ApiDirectives.problemFor(
            new IllegalStateException("secret connection string jdbc:postgresql://db"));
    assertThat(p.status()).isEqualTo(500);
    assertThat(p.detail()).doesNotContain("jdbc").doesNotContain("IllegalState");
    // An unknown StatusReply error is a bug, not a client error.
    assertThat(ApiDirectives.problemFor(new StatusReply.ErrorMessage("boom")).status())
        .isEqualTo(500);
  }

  private static Throwable error(String message) {
    return new StatusReply.ErrorMessage(message);
  }
}
