package io.outreach.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Requests too malformed to route (oversized headers, bad request lines, a declared Content-Length
 * over the server limit) get problem+json too, never Pekko's plain text. Configured as {@code
 * pekko.http.server.parsing.error-handler}.
 */
public final class ProblemParsingErrorHandler extends ParsingErrorHandler {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Override
  public HttpResponse handle(
      StatusCode status, ErrorInfo error, LoggingAdapter log, ServerSettings settings) {
    log.warning("request could not be parsed: {} {}", status.intValue(), error.summary());
    Problem p = Problem.Type.forStatus(status.intValue()).with(error.summary());
    return ApiDirectives.problemResponse(MAPPER, p).withStatus(status.intValue());
  }
}
