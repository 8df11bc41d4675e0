package io.outreach.engine;

/**
 * A port's refusal of a request, as the API reports it (invalid, not found, conflict): thrown by
 * blocking ports (a repository) where an entity would answer with a {@link Rejection}.
 */
public final class Refused extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Rejection rejection;

  public Refused(Rejection.Kind kind, String detail) {
    super(kind.code() + ": " + detail);
    this.rejection = new Rejection(kind, detail);
  }

  public Rejection rejection() {
    return rejection;
  }

  public static Refused invalid(String detail) {
    return new Refused(Rejection.Kind.INVALID, detail);
  }

  public static Refused notFound(String detail) {
    return new Refused(Rejection.Kind.NOT_FOUND, detail);
  }

  public static Refused conflict(String detail) {
    return new Refused(Rejection.Kind.CONFLICT, detail);
  }
}
