package io.readside.projection.management;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.readside.projection.outbox.ParkedOutputs;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

import org.eclipse.microprofile.health.HealthCheckResponse;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.readside.projection.LogGuard;
import io.readside.projection.lag.LagMonitor;
import io.readside.projection.lag.LagSnapshot;
import io.readside.projection.lag.PartitionLag;
import io.readside.projection.query.ReadReplicas;
import io.readside.projection.query.Replica;
import io.readside.projection.replay.Rebuilds;
import io.readside.projection.replay.Rebuilds.RebuildStatus;
import io.smallrye.health.SmallRyeHealth;
import io.smallrye.health.SmallRyeHealthReporter;

/**
 * A page for a person, without Grafana: lag and rate per partition, the latest rebuild of each read model, rejected
 * records, health. Refreshes itself. {@code GET /status} on the management port; it runs the health checks and reads
 * PostgreSQL, so it is rendered on a worker thread. Lag, fences and rebuilds are the cluster's (read from PostgreSQL
 * and the broker); health and the record counts are this instance's.
 */
@ApplicationScoped
public class StatusPage {

    @Inject
    ParkedOutputs parked;
    @Inject
    LagMonitor monitor;
    @Inject
    LogGuard logGuard;
    @Inject
    MeterRegistry registry;
    @Inject
    SmallRyeHealthReporter health;
    @Inject
    Rebuilds rebuilds;
    @Inject
    ReadReplicas replicas;

    public String render() {
        LagSnapshot lag = monitor.latest();
        StringBuilder html = new StringBuilder(8192);
        html.append("""
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8">
                <meta http-equiv="refresh" content="5">
                <title>Readside status</title>
                <style>
                 body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2433}
                 table{border-collapse:collapse;margin:.5rem 0 1.5rem}
                 th,td{border:1px solid #d0d5dd;padding:.3rem .7rem;text-align:right}
                 th{background:#f2f4f7} td.l,th.l{text-align:left}
                 .up{color:#067647;font-weight:600} .down{color:#b42318;font-weight:600} .lag{color:#b54708}
                 small{color:#667085}
                </style></head><body>
                <h1>Readside</h1>
                """);
        html.append("<p><small>lag measured ").append(esc(String.valueOf(lag.measuredAt())))
                .append(" (every ").append(monitor.interval().toSeconds()).append(" s); page refreshes every 5 s")
                .append(lag.error() == null ? "" : "; last attempt failed: " + esc(lag.error()))
                .append("</small></p>\n");
        logGuard.mismatches().forEach((topic, mismatch) -> html.append("<p class=down><b>topic ").append(esc(topic))
                .append(" is fenced, nothing of it is applied:</b> ").append(esc(mismatch.reason()))
                .append(" (since ").append(esc(String.valueOf(mismatch.since())))
                .append("). <code>POST /admin/topics/").append(esc(topic))
                .append("/accept-new-log</code> accepts the new log.</p>\n"));

        parked.latest().forEach(waiting -> html.append("<p class=down><b>").append(waiting.waiting())
                .append(" records for topic ").append(esc(waiting.topic()))
                .append(" were refused by the broker for good and are parked</b> (oldest ")
                .append(esc(String.valueOf(waiting.oldest()))).append("; last reason: ")
                .append(esc(waiting.lastReason())).append("). <code>GET /admin/parked-outputs</code> lists them, "
                        + "<code>POST /admin/parked-outputs/resend</code> re-sends them once the topic is fixed.</p>\n"));

        html.append("<h2>Health (this instance)</h2>\n<table><tr><th class=l>check</th><th class=l>kind</th><th class=l>status</th>"
                + "<th class=l>details</th></tr>\n");
        appendHealth(html, "liveness", health.getLiveness());
        appendHealth(html, "readiness", health.getReadiness());
        appendHealth(html, "startup", health.getStartup());
        appendHealth(html, "wellness", health.getWellness());
        html.append("</table>\n");

        html.append("<h2>Consumer lag</h2>\n<p>total <b>").append(lag.totalLagRecords())
                .append("</b> records, oldest unapplied record <b>").append(fmt(lag.maxLagSeconds()))
                .append("</b> s old</p>\n<table><tr><th class=l>channel</th><th class=l>topic</th><th>partition</th>"
                        + "<th>end offset</th><th>applied</th><th>lag (records)</th><th>lag (s)</th>"
                        + "<th>applied/s</th><th class=l>last applied</th></tr>\n");
        for (PartitionLag p : lag.partitions()) {
            html.append("<tr><td class=l>").append(esc(p.channel())).append("</td><td class=l>").append(esc(p.topic()))
                    .append("</td><td>").append(p.partition()).append("</td><td>").append(p.endOffset())
                    .append("</td><td>").append(p.appliedOffset()).append("</td><td")
                    .append(p.lagRecords() > 0 ? " class=lag>" : ">").append(p.lagRecords()).append("</td><td>")
                    .append(fmt(p.lagSeconds())).append("</td><td>").append(fmt(p.appliedPerSecond()))
                    .append("</td><td class=l>").append(esc(String.valueOf(p.lastAppliedAt()))).append("</td></tr>\n");
        }
        html.append("</table>\n");
        appendRebuilds(html);
        appendReplicas(html);
        html.append("<h2>Records (this instance, since it started)</h2>\n<table><tr><th class=l>channel</th><th class=l>outcome</th>"
                + "<th class=l>reason</th><th>count</th></tr>\n");
        for (Counter counter : registry.find("readside.records").counters()) {
            row(html, counter.getId().getTag("channel"), counter.getId().getTag("outcome"), "", counter.count());
        }
        for (Counter counter : registry.find("readside.records.rejected").counters()) {
            row(html, counter.getId().getTag("channel"), "rejected", counter.getId().getTag("reason"), counter.count());
        }
        html.append("</table>\n<p><small>JSON: <a href=\"/lag\">/lag</a> · metrics: <a href=\"/q/metrics\">/q/metrics</a>"
                + " · health: <a href=\"/q/health\">/q/health</a> · at ").append(Instant.now())
                .append("</small></p>\n</body></html>\n");
        return html.toString();
    }

    /** The latest rebuild of each read model, whichever instance runs or ran it. */
    private void appendRebuilds(StringBuilder html) {
        html.append("<h2>Rebuilds</h2>\n<table><tr><th class=l>read model</th><th class=l>state</th>"
                + "<th class=l>instance</th><th class=l>started</th><th>replayed</th><th>remaining</th>"
                + "<th class=l>progress written</th><th class=l>error</th></tr>\n");
        for (String readModel : rebuilds.readModelNames()) {
            html.append("<tr><td class=l>").append(esc(readModel)).append("</td>");
            try {
                Optional<RebuildStatus> latest = rebuilds.status(readModel);
                if (latest.isEmpty()) {
                    html.append("<td class=l colspan=7><small>none recorded</small></td></tr>\n");
                    continue;
                }
                RebuildStatus run = latest.get();
                html.append("<td class=\"l ").append(run.state() == Rebuilds.State.FAILED ? "down\">" : "\">")
                        .append(run.state()).append(run.abandoned() ? " (abandoned)" : "").append("</td><td class=l>")
                        .append(esc(run.instance())).append("</td><td class=l>")
                        .append(esc(String.valueOf(run.startedAt()))).append("</td><td>").append(run.replayedRecords())
                        .append("</td><td>").append(run.remainingRecords()).append("</td><td class=l>")
                        .append(esc(String.valueOf(run.updatedAt()))).append("</td><td class=l><small>")
                        .append(esc(run.error())).append("</small></td></tr>\n");
            } catch (RuntimeException e) {
                html.append("<td class=\"l down\" colspan=7>could not be read: ")
                        .append(esc(e.getClass().getSimpleName())).append("</td></tr>\n");
            }
        }
        html.append("</table>\n");
    }

    /** The read replicas GET queries read from (this instance's view), when any is configured. */
    private void appendReplicas(StringBuilder html) {
        if (!replicas.configured()) {
            return;
        }
        html.append("<h2>Read replicas (this instance)</h2>\n<table><tr><th class=l>replica</th><th class=l>rotation</th>"
                + "<th>replay lag (s)</th></tr>\n");
        for (Replica replica : replicas.all()) {
            html.append("<tr><td class=l>").append(esc(replica.name())).append("</td><td class=\"l ")
                    .append(replica.inRotation() ? "up\">in" : "down\">out: " + esc(replica.outOfRotation()))
                    .append("</td><td>").append(fmt(replica.lagSeconds())).append("</td></tr>\n");
        }
        html.append("</table>\n");
    }

    private static void appendHealth(StringBuilder html, String kind, SmallRyeHealth report) {
        for (JsonValue value : report.getPayload().getJsonArray("checks")) {
            JsonObject check = value.asJsonObject();
            boolean up = HealthCheckResponse.Status.UP.name().equals(check.getString("status"));
            html.append("<tr><td class=l>").append(esc(check.getString("name"))).append("</td><td class=l>")
                    .append(kind).append("</td><td class=\"l ").append(up ? "up\">UP" : "down\">DOWN")
                    .append("</td><td class=l><small>")
                    .append(esc(check.containsKey("data") ? check.get("data").toString() : ""))
                    .append("</small></td></tr>\n");
        }
    }

    private static void row(StringBuilder html, String channel, String outcome, String reason, double count) {
        html.append("<tr><td class=l>").append(esc(channel)).append("</td><td class=l>").append(esc(outcome))
                .append("</td><td class=l>").append(esc(reason)).append("</td><td>").append((long) count)
                .append("</td></tr>\n");
    }

    private static String fmt(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }

    private static String esc(String text) {
        return text == null ? "" : text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\"", "&quot;");
    }
}
