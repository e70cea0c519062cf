package io.readside.web;

import java.util.List;

/** Ends a request with a problem body; the message is shown to the caller, so it says what to change. */
public class ProblemException extends RuntimeException {

    private final int status;
    private final String title;
    private final List<Problem.InvalidField> errors;
    private final int retryAfterSeconds;

    public ProblemException(int status, String title, String detail) {
        this(status, title, detail, List.of());
    }

    public ProblemException(int status, String title, String detail, List<Problem.InvalidField> errors) {
        this(status, title, detail, errors, 0);
    }

    /** A problem that goes away by itself: the answer carries {@code Retry-After}. */
    public ProblemException(int status, String title, String detail, int retryAfterSeconds) {
        this(status, title, detail, List.of(), retryAfterSeconds);
    }

    private ProblemException(int status, String title, String detail, List<Problem.InvalidField> errors,
            int retryAfterSeconds) {
        super(detail);
        this.status = status;
        this.title = title;
        this.errors = List.copyOf(errors);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** Seconds for a Retry-After header; 0: none. */
    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** A request body with bad fields: every one of them is named, not only the first. */
    public static ProblemException invalidFields(List<Problem.InvalidField> errors) {
        return new ProblemException(400, "Bad request", errors.size() == 1 ? "1 field is invalid"
                : errors.size() + " fields are invalid", errors);
    }

    public static ProblemException badRequest(String detail) {
        return new ProblemException(400, "Bad request", detail);
    }

    public static ProblemException notFound(String detail) {
        return new ProblemException(404, "Not found", detail);
    }

    public Problem problem() {
        return new Problem("about:blank", title, status, getMessage(), errors);
    }
}
