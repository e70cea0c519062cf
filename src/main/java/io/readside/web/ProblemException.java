package io.readside.web;

/** Ends a request with a problem body; the message is shown to the caller, so it says what to change. */
public class ProblemException extends RuntimeException {

    private final int status;
    private final String title;

    public ProblemException(int status, String title, String detail) {
        super(detail);
        this.status = status;
        this.title = title;
    }

    public static ProblemException badRequest(String detail) {
        return new ProblemException(400, "Bad request", detail);
    }

    public static ProblemException notFound(String detail) {
        return new ProblemException(404, "Not found", detail);
    }

    public Problem problem() {
        return new Problem("about:blank", title, status, getMessage());
    }
}
