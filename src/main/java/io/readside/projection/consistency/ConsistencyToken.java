package io.readside.projection.consistency;

import java.util.regex.Pattern;

import io.readside.values.Quote;
import io.readside.web.ProblemException;

/**
 * Names a write a caller wants to read back: {@code outbox:<id>} (a command's event, until and after the relay
 * published it) or {@code <topic>:<partition>:<offset>} (any record's position, e.g. what a producer's send
 * returned). Opaque to callers: they pass back what they were given.
 */
public record ConsistencyToken(Long outboxId, String topic, int partition, long offset) {

    public static final String HEADER = "X-Consistency-Token";
    public static final String QUERY_PARAMETER = "consistency_token";

    private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");
    /** ASCII digits only (the parsers also take a sign and other scripts' digits); the size is checked by parsing */
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,19}");
    /** The longest topic name, a partition and an offset with their colons, and some surrounding space. */
    private static final int MAX_LENGTH = 300;
    private static final String FORMS = "'outbox:<id>' or '<topic>:<partition>:<offset>'";

    public static ConsistencyToken ofOutbox(long id) {
        return new ConsistencyToken(id, null, 0, 0);
    }

    public static ConsistencyToken ofPosition(String topic, int partition, long offset) {
        return new ConsistencyToken(null, topic, partition, offset);
    }

    public boolean isOutbox() {
        return outboxId != null;
    }

    /** Reads a token; a malformed one is a 400. */
    public static ConsistencyToken parse(String text) {
        String[] parts = text.length() > MAX_LENGTH ? new String[0] : text.strip().split(":", -1);
        try {
            if (parts.length == 2 && parts[0].equals("outbox") && DIGITS.matcher(parts[1]).matches()) {
                long id = Long.parseLong(parts[1]);
                if (id > 0) {
                    return ofOutbox(id);
                }
            } else if (parts.length == 3 && TOPIC.matcher(parts[0]).matches() && DIGITS.matcher(parts[1]).matches()
                    && DIGITS.matcher(parts[2]).matches()) {
                return ofPosition(parts[0], Integer.parseInt(parts[1]), Long.parseLong(parts[2]));
            }
        } catch (NumberFormatException e) {
            // too large for an int or a long: answered below
        }
        throw ProblemException.badRequest("consistency token " + Quote.of(text) + " is not " + FORMS);
    }

    @Override
    public String toString() {
        return isOutbox() ? "outbox:" + outboxId : topic + ":" + partition + ":" + offset;
    }
}
