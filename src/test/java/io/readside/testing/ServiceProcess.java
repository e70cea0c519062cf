package io.readside.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;

import io.readside.dev.EmbeddedPostgresql;

/**
 * The packaged service ({@code target/quarkus-app/quarkus-run.jar}) as its own operating-system process, so that it
 * can be killed with SIGKILL or stopped with SIGTERM like a pod. It listens on the given HTTP port (the API) and on a
 * free management port of its own (health, metrics, /lag, /status).
 */
public final class ServiceProcess {

    static final Path JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");
    private static final String APP_CDS = "app-cds.jsa";
    private static final String OPERATOR = Tokens.bearer(Tokens.operator());
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String name;
    private final int port;
    private final int managementPort;
    private final Process process;

    private ServiceProcess(String name, int port, int managementPort, Process process) {
        this.name = name;
        this.port = port;
        this.managementPort = managementPort;
        this.process = process;
    }

    /**
     * The settings that point the service at a broker and at an embedded PostgreSQL on {@code postgresPort}, with
     * plain-text logs; a mutable map, for more.
     */
    public static Map<String, String> connectedTo(String bootstrapServers, int postgresPort) {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("kafka.bootstrap.servers", bootstrapServers);
        properties.put("quarkus.datasource.reactive.url", "postgresql://localhost:" + postgresPort + "/postgres");
        properties.put("quarkus.datasource.jdbc.url", "jdbc:postgresql://localhost:" + postgresPort + "/postgres");
        properties.put("quarkus.datasource.username", EmbeddedPostgresql.USER);
        properties.put("quarkus.datasource.password", EmbeddedPostgresql.USER);
        properties.put("quarkus.log.console.json.enabled", "false");
        return properties;
    }

    /**
     * Starts the jar with {@code -Xmx256m} and the serial collector (the container image's collector; the image sizes
     * the heap from the container's memory instead), the given system properties, and its log in
     * {@code logDir/name.log}. Another collector: {@code -XX:-UseSerialGC} first in the JVM options.
     */
    public static ServiceProcess start(String name, int port, Map<String, String> properties, Path logDir) {
        return start(name, port, properties, logDir, List.of());
    }

    /** As above, with more JVM options (a flight recording, say; a class archive of their own replaces the jar's). */
    public static ServiceProcess start(String name, int port, Map<String, String> properties, Path logDir,
            List<String> jvmOptions) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx256m", "-XX:+UseSerialGC"));
        command.addAll(jvmOptions);
        properties.forEach((key, value) -> command.add("-D" + key + "=" + value));
        Tokens.trust().forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add("-Dquarkus.http.port=" + port);
        int managementPort = LocalHost.freePort();
        command.add("-Dquarkus.management.port=" + managementPort);
        // from the jar's own directory, as in the container image: an AppCDS archive (built by the package step with
        // quarkus.package.jar.appcds.enabled) names the jar as it was started when the archive was made
        boolean archiveChosen = jvmOptions.stream().anyMatch(option -> option.startsWith("-XX:SharedArchiveFile=")
                || option.startsWith("-XX:ArchiveClassesAtExit="));
        if (!archiveChosen && Files.exists(JAR.resolveSibling(APP_CDS))) {
            command.add("-XX:SharedArchiveFile=" + APP_CDS);
            command.add("-Xshare:auto"); // an archive of another JVM build is left unused, not fatal
        }
        command.addAll(List.of("-jar", JAR.getFileName().toString()));
        try {
            Files.createDirectories(logDir);
            Path log = logDir.resolve(name + ".log").toAbsolutePath();
            Process process = new ProcessBuilder(command).directory(JAR.getParent().toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            return new ServiceProcess(name, port, managementPort, process);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public long pid() {
        return process.pid();
    }

    public String name() {
        return name;
    }

    public boolean alive() {
        return process.isAlive();
    }

    public ServiceProcess awaitReady(Duration timeout) {
        Awaitility.await(name + " ready").atMost(timeout).pollInterval(Duration.ofMillis(200))
                .until(() -> managementStatus("/q/health/ready") == 200);
        return this;
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed or committed. */
    public void kill() {
        process.destroyForcibly();
        waitForExit(Duration.ofSeconds(30));
    }

    /** SIGTERM, then waits for the process to exit; returns how long that took. */
    public Duration terminate(Duration atMost) {
        long start = System.nanoTime();
        process.destroy();
        waitForExit(atMost);
        return Duration.ofNanos(System.nanoTime() - start);
    }

    public int exitValue() {
        return process.exitValue();
    }

    private void waitForExit(Duration atMost) {
        try {
            if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(name + " did not exit within " + atMost);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The HTTP status of a GET on the API port, or -1 when nothing answers. */
    public int status(String path) {
        return status(request(path));
    }

    /** The HTTP status of a GET on the management port (health, metrics, /lag, /status), or -1 when nothing answers. */
    public int managementStatus(String path) {
        return status(managementRequest(path));
    }

    private static int status(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    public String get(String path) {
        return send(request(path).build()).body();
    }

    /** A GET on the management port. */
    public String managementGet(String path) {
        return send(managementRequest(path).build()).body();
    }

    /** A POST of a JSON body. */
    public HttpResponse<String> post(String path, String json) {
        return send(request(path).POST(HttpRequest.BodyPublishers.ofString(json))
                .header("Content-Type", "application/json").build());
    }

    /** Waits for the process to end by itself; returns its exit code. */
    public int awaitExit(Duration atMost) {
        waitForExit(atMost);
        return process.exitValue();
    }

    public HttpResponse<String> postAsAdmin(String path) {
        return send(request(path).POST(HttpRequest.BodyPublishers.noBody()).build());
    }

    public String getAsAdmin(String path) {
        return get(path);
    }

    /** A sample of {@code /q/metrics} whose line starts with {@code series} (name and labels); 0 when absent. */
    public double metric(String series) {
        for (String line : managementGet("/q/metrics").split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return 0;
    }

    private HttpRequest.Builder request(String path) {
        // every call as the operator (all roles): these tests are about delivery, not about who may call
        return HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).timeout(Duration.ofSeconds(10))
                .header("Authorization", OPERATOR);
    }

    private HttpRequest.Builder managementRequest(String path) {
        return HttpRequest.newBuilder(URI.create("http://localhost:" + managementPort + path))
                .timeout(Duration.ofSeconds(10));
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
