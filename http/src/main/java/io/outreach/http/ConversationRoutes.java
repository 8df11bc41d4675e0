package io.outreach.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.outreach.engine.lead.PhoneNumbers;
import io.outreach.persistence.ConversationReadModel;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Conversations: {@code GET /v1/conversations} lists the people the tenant talks to (newest first),
 * {@code GET /v1/conversations/{phone}} one person's consent and thread: their inbound messages,
 * the engine's replies and the campaigns' messages, in time order.
 */
public final class ConversationRoutes extends ApiDirectives {
  static final int THREAD_LIMIT = 200;

  private final ConversationReadModel readModel;
  private final String region;

  public ConversationRoutes(
      ActorSystem<?> system, JwtAuth auth, ConversationReadModel readModel, String region) {
    super(system, auth, 0);
    this.readModel = readModel;
    this.region = region;
  }

  /** A conversation in the list. */
  public record ConversationItem(
      String phone,
      boolean optedOut,
      Instant optedOutAt,
      long inboundCount,
      Instant lastInboundAt,
      String lastBody,
      String lastClassification,
      Instant updatedAt) {
    static ConversationItem of(ConversationReadModel.ConversationRow r) {
      return new ConversationItem(
          r.phone(),
          r.optedOut(),
          r.optedOutAt(),
          r.inboundCount(),
          r.lastInboundAt(),
          r.lastBody(),
          r.lastClassification(),
          r.updatedAt());
    }
  }

  /** One person's conversation with its thread. */
  public record ConversationBody(
      ConversationItem conversation, List<ConversationReadModel.ThreadMessage> messages) {}

  public Route route() {
    return concat(
        path(
            segment("v1").slash("conversations"),
            () ->
                get(
                    () ->
                        endpoint(
                            "GET /v1/conversations",
                            () -> authenticated(Role.VIEWER, this::list)))),
        path(
            segment("v1").slash("conversations").slash(segment()),
            phone ->
                get(
                    () ->
                        endpoint(
                            "GET /v1/conversations/{phone}",
                            () -> authenticated(Role.VIEWER, p -> one(p, phone))))));
  }

  private Route list(Principal p) {
    return paged(
        page ->
            answer(
                blocking(() -> readModel.list(p.tenantId(), page.after(), page.limit())),
                rows -> {
                  boolean more = rows.size() > page.limit();
                  List<ConversationReadModel.ConversationRow> shown =
                      more ? rows.subList(0, page.limit()) : rows;
                  return json(
                      new ListPage<>(
                          shown.stream().map(ConversationItem::of).toList(),
                          more ? ListPage.encode(shown.get(shown.size() - 1).seq()) : null));
                }));
  }

  private Route one(Principal p, String raw) {
    Optional<String> phone = PhoneNumbers.e164(raw, region);
    if (phone.isEmpty()) {
      return problem(Problem.Type.NOT_FOUND.with("no conversation with " + raw));
    }
    return answer(
        blocking(
            () ->
                readModel
                    .get(p.tenantId(), phone.get())
                    .map(
                        c ->
                            new ConversationBody(
                                ConversationItem.of(c),
                                readModel.thread(p.tenantId(), phone.get(), THREAD_LIMIT)))),
        body ->
            body.isPresent()
                ? json(body.get())
                : problem(Problem.Type.NOT_FOUND.with("no conversation with " + phone.get())));
  }
}
