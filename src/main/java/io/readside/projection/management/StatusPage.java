package io.readside.projection.management;

import java.time.Instant;
import java.util.Locale;

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
import io.smallrye.health.SmallRyeHealth;
import io.smallrye.health.SmallRyeHealthReporter;

/**
 * A page for a person, without Grafana: lag and rate per partition, rejected records, health. Refreshes itself.
 * {@code GET /status} on the management port; it runs the health checks, so it is rendered on a worker thread.
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

        html.append("<h2>Health</h2>\n<table><tr><th class=l>check</th><th class=l>kind</th><th class=l>status</th>"
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
        html.append("</table>\n<h2>Records</h2>\n<table><tr><th class=l>channel</th><th class=l>outcome</th>"
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
