package io.readside.projection.consistency;

import java.util.Map;
import java.util.OptionalLong;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.readside.projection.lag.LagMonitor;
import io.readside.values.Quote;
import io.readside.web.ProblemException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Whether a consistency token names a write that was issued and that this read model applies, checked once before a
 * wait: a token that was never issued would only wait out {@code readside.consistency.max-wait}, so it is refused
 * with 400 ({@link ProblemException}) at once. An outbox token is resolved to its row's position here (only the
 * outbox's position columns are read). Used by {@link ConsistencyGate}; logs under its category.
 */
@ApplicationScoped
class IssuedTokens {

    private static final Logger LOG = Logger.getLogger(ConsistencyGate.class);

    static final String OUTBOX_POSITION = "SELECT topic, kafka_partition, kafka_offset FROM outbox WHERE id = $1";
    /** The highest outbox id handed out (0 before the first): a token above it was never issued. */
    static final String LAST_ISSUED = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM outbox_id_seq";

    /** What {@link #resolve} answers for an outbox row past retention: applied long ago, nothing to wait for. */
    static final ConsistencyToken SATISFIED = ConsistencyToken.ofPosition("-", 0, 0);

    @Inject
    Pool pool;
    @Inject
    LagMonitor lag;

    /**
     * An outbox token's position, read once: null while its row is unpublished; {@link #SATISFIED} when the row is
     * past retention; fails with 400 when the id was never handed out.
     */
    Uni<ConsistencyToken> resolve(ConsistencyToken token) {
        return pool.preparedQuery(OUTBOX_POSITION).execute(Tuple.of(token.outboxId())).flatMap(rows -> {
            if (rows.size() == 1) {
                Row row = rows.iterator().next();
                Long offset = row.getLong("kafka_offset");
                return Uni.createFrom().item(offset == null ? null
                        : ConsistencyToken.ofPosition(row.getString("topic"), row.getInteger("kafka_partition"),
                                offset));
            }
            return pool.query(LAST_ISSUED).execute().map(issued -> {
                if (token.outboxId() > issued.iterator().next().getLong(0)) {
                    throw ProblemException.badRequest("consistency token " + Quote.of(token) + " was never issued");
                }
                return SATISFIED; // published and deleted after the outbox retention: applied long ago
            });
        });
    }

    /**
     * A position token must name a topic this read model applies ({@code groups}: topic -> consumer group), a
     * partition of it, and an offset below the partition's log end: anything else was never issued and would only
     * wait out {@code max-wait}. The last lag measurement answers most; a token beyond it (a record produced since)
     * is checked with the broker ({@link LagMonitor#logEndBeyond}: one question per partition at a time, shared by
     * the tokens that need it, on threads of its own, each call at most 2 s). When the broker cannot be asked, the
     * token is waited for as any other (bounded), rather than refused falsely. Throws or fails with 400.
     */
    Uni<Void> checkIssued(ConsistencyToken position, Map<String, String> groups) {
        checkApplied(position, groups);
        OptionalLong measured = lag.measuredEndOffset(position.topic(), position.partition());
        if (measured.isPresent() && position.offset() < measured.getAsLong()) {
            return Uni.createFrom().voidItem();
        }
        return lag.logEndBeyond(position.topic(), position.partition(), position.offset())
                .onFailure().recoverWithItem(e -> {
                    LOG.debugf(e, "cannot check consistency token %s with the broker; waiting for it", position);
                    return null;
                })
                .invoke(end -> {
                    if (end == null) {
                        return;
                    }
                    if (!end.exists()) {
                        throw ProblemException.badRequest("consistency token " + Quote.of(position) + " was never "
                                + "issued: topic " + Quote.of(position.topic()) + " has " + end.partitions()
                                + " partitions, numbered from 0");
                    }
                    if (position.offset() >= end.endOffset()) {
                        throw ProblemException.badRequest("consistency token " + Quote.of(position) + " was never "
                                + "issued: partition " + position.partition() + " of " + Quote.of(position.topic())
                                + " ends before offset " + end.endOffset());
                    }
                })
                .replaceWithVoid();
    }

    /** Throws 400 when the position token names a topic this read model ({@code groups}) does not apply. */
    static void checkApplied(ConsistencyToken position, Map<String, String> groups) {
        if (!groups.containsKey(position.topic())) {
            throw ProblemException.badRequest("consistency token " + Quote.of(position) + " names topic "
                    + Quote.of(position.topic()) + ", which this read model does not apply (it applies "
                    + groups.keySet() + ")");
        }
    }
}
