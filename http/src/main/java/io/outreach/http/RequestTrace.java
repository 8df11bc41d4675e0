package io.outreach.http;

import org.apache.pekko.http.javadsl.model.AttributeKey;

/**
 * What the routing learned about one request, for its access log line and metrics: the route
 * template that matched and the caller's tenant. Written once by the matching route, read when the
 * response leaves; route evaluation of a single request is sequential.
 */
final class RequestTrace {
  static final AttributeKey<RequestTrace> KEY =
      AttributeKey.create("outreach-trace", RequestTrace.class);

  final String requestId;
  volatile String route = "unmatched";
  volatile String tenant;

  RequestTrace(String requestId) {
    this.requestId = requestId;
  }
}
