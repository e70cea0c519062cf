package io.readside.projection.rest;

import java.net.URI;
import java.util.List;

import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.config.Config;

import io.readside.projection.LogGuard;
import io.readside.projection.ProjectedChannels;
import io.readside.projection.outbox.ParkedOutputs;
import io.readside.projection.replay.LogCaughtUp;
import io.readside.projection.replay.Rebuilds;
import io.readside.projection.replay.Rebuilds.RebuildStatus;
import io.readside.projection.replay.Redrive;
import io.readside.security.Roles;
import io.readside.values.Quote;
import io.readside.web.Problem;
import io.readside.web.ProblemException;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;

/**
 * Operations that change or replace read models: rebuild from the topic, re-publish dead letters, accept a new log,
 * list and re-send the outputs the broker refused for good.
 * A bearer token with role {@value Roles#ADMIN}.
 */
@Path("/admin")
@Produces(MediaType.APPLICATION_JSON)
@RolesAllowed(Roles.ADMIN)
@Blocking
public class AdminResource {

    @Inject
    Rebuilds rebuilds;
    @Inject
    Redrive redrive;
    @Inject
    LogGuard logGuard;
    @Inject
    Config config;
    @Inject
    ParkedOutputs parked;

    /** Starts rebuilding a read model; 202 with where to follow its progress. */
    @POST
    @Path("/rebuilds/{readModel}")
    public Response rebuild(@PathParam("readModel") String readModel,
            @QueryParam("accept-history-loss") String acceptHistoryLoss) {
        known(readModel);
        boolean accept = Problem.flag("accept-history-loss", acceptHistoryLoss);
        try {
            RebuildStatus status = rebuilds.start(readModel, accept);
            return Response.accepted(status).location(URI.create("/admin/rebuilds/" + readModel)).build();
        } catch (Rebuilds.HistoryLossException e) {
            throw new ProblemException(409, "History would be lost", e.getMessage());
        } catch (IllegalStateException e) {
            throw new ProblemException(409, "Conflict", e.getMessage() + "; try again when it has finished");
        }
    }

    /** The latest rebuild of a read model, whichever instance runs or ran it (kept in PostgreSQL). */
    @GET
    @Path("/rebuilds/{readModel}")
    public RebuildStatus rebuildStatus(@PathParam("readModel") String readModel) {
        known(readModel);
        return rebuilds.status(readModel).orElseThrow(() -> ProblemException.notFound(
                "no rebuild of " + Quote.of(readModel) + " has been started"));
    }

    public record Redrove(String topic, String deadLetterTopic, int partition, long from, long to,
            List<Redrive.Redriven> records) {
    }

    /** Re-publishes the dead letters of {@code topic} at offsets {@code from..to} of a partition of its DLQ. */
    @POST
    @Path("/dead-letters/{topic}/redrive")
    public Redrove redrive(@PathParam("topic") String topic, @QueryParam("partition") String partition,
            @QueryParam("from") String from, @QueryParam("to") String to,
            @QueryParam("allow-older-versions") String allowOlderVersions) {
        if (!projectedTopics().contains(topic)) {
            throw ProblemException.notFound(Quote.of(topic) + " is not a topic Readside projects; known: "
                    + projectedTopics());
        }
        int dlqPartition = Problem.intBetween("partition", partition == null ? "0" : partition, 0, 10_000);
        long first = Problem.nonNegativeLong("from", from);
        long last = Problem.nonNegativeLong("to", to);
        if (last < first || last - first >= Redrive.MAX_RECORDS) {
            throw ProblemException.badRequest("'to' must be at least 'from' and at most 'from' + "
                    + (Redrive.MAX_RECORDS - 1) + ", got from=" + first + " to=" + last);
        }
        try {
            return new Redrove(topic, topic + ".dlq", dlqPartition, first, last,
                    redrive.redrive(topic, dlqPartition, first, last, Problem.flag("allow-older-versions",
                            allowOlderVersions)));
        } catch (IllegalArgumentException e) {
            throw ProblemException.notFound(e.getMessage());
        } catch (Redrive.OlderVersionsException e) {
            throw new ProblemException(409, "Conflict", e.getMessage());
        } catch (LogCaughtUp.NotCaughtUpException e) {
            throw new ProblemException(503, "Service Unavailable", e.getMessage(), 5);
        } catch (LogGuard.LogMismatchException e) {
            throw new ProblemException(409, "Conflict", e.getMessage());
        } catch (LogGuard.LogUnverifiedException e) {
            throw new ProblemException(503, "Service Unavailable", "whether topic " + topic + " is fenced could not "
                    + "be checked now (the broker or the database did not answer): nothing was sent; try again", 5);
        }
    }

    public record Accepted(String topic, int positionsForgotten) {
    }

    /**
     * Accepts a topic's new log after Readside fenced it (deleted and created again, restored, failed over; see
     * the readiness check {@code readside-log-identity}): its positions are forgotten and its projectors resume from
     * where their consumers are. Rebuild the read models afterwards if the new log replaces the old history.
     */
    @POST
    @Path("/topics/{topic}/accept-new-log")
    public Accepted acceptNewLog(@PathParam("topic") String topic) {
        if (!projectedTopics().contains(topic)) {
            throw ProblemException.notFound(Quote.of(topic) + " is not a topic Readside projects; known: "
                    + projectedTopics());
        }
        Uni<java.util.Optional<Integer>> accepted = logGuard.accept(topic)
                .onFailure(IllegalStateException.class).transform(e -> new ProblemException(409, "Conflict",
                        e.getMessage()));
        return new Accepted(topic, accepted.await().atMost(java.time.Duration.ofSeconds(30))
                .orElseThrow(() -> new ProblemException(409, "Conflict", "topic " + Quote.of(topic) + " is not "
                        + "fenced: its log is the one its positions came from, there is nothing to accept")));
    }

    /** The latest parked outputs (records the broker refused for good), newest first; {@code topic}: of one only. */
    @GET
    @Path("/parked-outputs")
    public List<ParkedOutputs.Parked> parkedOutputs(@QueryParam("topic") String topic,
            @QueryParam("limit") String limit) {
        return parked.list(topicName(topic), Problem.intBetween("limit", limit == null ? "100" : limit, 1, 1000))
                .await().atMost(java.time.Duration.ofSeconds(30));
    }

    /**
     * Re-sends the waiting parked outputs ({@code topic}: of one only) through the outbox, once, in their original
     * order; those for whose key a later record was published since are not sent (they would move it backwards)
     * and are counted as superseded.
     */
    @POST
    @Path("/parked-outputs/resend")
    public ParkedOutputs.Resent resendParkedOutputs(@QueryParam("topic") String topic) {
        return parked.resend(topicName(topic))
                .onFailure(ParkedOutputs.RelayBusy.class)
                .transform(e -> new ProblemException(409, "Conflict", e.getMessage()))
                .await().atMost(parked.answerWithin());
    }

    /** A Kafka topic name (or null): at most 249 of {@code [a-zA-Z0-9._-]}. */
    private static String topicName(String topic) {
        if (topic != null && !topic.matches("[a-zA-Z0-9._-]{1,249}")) {
            throw ProblemException.badRequest("'topic' must be a Kafka topic name: 1 to 249 of a-z, A-Z, 0-9, '.', "
                    + "'_' and '-'");
        }
        return topic;
    }

    /** Every topic a channel projects (payments too, which no rebuild replays). */
    private List<String> projectedTopics() {
        return ProjectedChannels.of(config).stream().map(ProjectedChannels.Consumed::topic).distinct().sorted()
                .toList();
    }

    private void known(String readModel) {
        if (!rebuilds.readModelNames().contains(readModel)) {
            throw ProblemException.notFound("no read model " + Quote.of(readModel) + "; known: "
                    + rebuilds.readModelNames());
        }
    }
}
