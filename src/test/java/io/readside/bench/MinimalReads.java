package io.readside.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.consumer.JwtConsumer;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import io.readside.orders.Order;
import io.readside.security.Roles;
import io.readside.testing.Tokens;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgPool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

/**
 * The framework's share of a read, for the benchmark only: {@code GET /orders/{id}} answered by Vert.x and the
 * reactive PostgreSQL client alone, with the same work per request as Readside's, the way a hand-written service
 * would do it: the bearer token verified (RS256 signature, issuer, audience, expiry; the reader role; a token that
 * passed is used again for 60 s, before its expiry, as Readside does), the same
 * {@code SELECT} as a prepared statement on a pool of 20, the row as the same JSON. No REST layer, security
 * framework, consistency filter, metrics or tracing. As many event loops as Quarkus starts (2 per core), one HTTP
 * server on each, one shared pool (as Quarkus shares its pool).
 *
 * <p>{@code java -cp ... io.readside.bench.MinimalReads <http port> <postgres port> <user> <password> <database>}
 */
public final class MinimalReads extends AbstractVerticle {

    private static final String BY_ID = "SELECT " + Order.COLUMNS + " FROM orders WHERE order_id = $1";
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

    private final int port;
    private final PgPool pool;
    private final PublicKey key;
    private JwtConsumer tokens;
    /** Per event loop: a verified token's time to verify it again (nanoTime), and its expiry (epoch seconds). */
    private final Map<String, long[]> verified = new HashMap<>();

    private MinimalReads(int port, PgPool pool, PublicKey key) {
        this.port = port;
        this.pool = pool;
        this.key = key;
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int loops = 2 * Runtime.getRuntime().availableProcessors();
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops));
        PgPool pool = PgPool.pool(vertx, new PgConnectOptions().setHost("localhost").setPort(Integer.parseInt(args[1]))
                .setUser(args[2]).setPassword(args[3]).setDatabase(args[4]).setCachePreparedStatements(true),
                new PoolOptions().setMaxSize(20));
        PublicKey key = publicKey(Path.of("src/dev/jwt/dev-public.pem"));
        vertx.deployVerticle(() -> new MinimalReads(port, pool, key), new DeploymentOptions().setInstances(loops))
                .toCompletionStage().toCompletableFuture().get();
        System.out.println("MINIMAL listening on " + port);
    }

    @Override
    public void start() {
        tokens = new JwtConsumerBuilder().setRequireExpirationTime().setAllowedClockSkewInSeconds(60)
                .setExpectedIssuer(Tokens.ISSUER).setExpectedAudience(Tokens.AUDIENCE).setVerificationKey(key)
                .setJwsAlgorithmConstraints(AlgorithmConstraints.ConstraintType.PERMIT,
                        AlgorithmIdentifiers.RSA_USING_SHA256)
                .build();
        vertx.createHttpServer().requestHandler(this::handle).listen(port);
    }

    private void handle(HttpServerRequest request) {
        String path = request.path();
        if (!path.startsWith("/orders/") || path.length() == "/orders/".length()) {
            request.response().setStatusCode(404).end();
            return;
        }
        String authorization = request.getHeader("Authorization");
        try {
            if (authorization == null || !authorization.startsWith("Bearer ")) {
                throw new IllegalArgumentException("no bearer token");
            }
            String token = authorization.substring("Bearer ".length());
            long[] kept = verified.get(token);
            if (kept == null || System.nanoTime() - kept[0] > 0 || System.currentTimeMillis() / 1000 >= kept[1]) {
                JwtClaims claims = tokens.processToClaims(token);
                if (!claims.getStringListClaimValue("groups").contains(Roles.READER)) {
                    request.response().setStatusCode(403).end();
                    return;
                }
                if (verified.size() > 10_000) {
                    verified.clear();
                }
                verified.put(token, new long[] { System.nanoTime() + 60_000_000_000L,
                        claims.getExpirationTime().getValue() });
            }
        } catch (Exception e) {
            request.response().setStatusCode(401).end();
            return;
        }
        String id = path.substring("/orders/".length());
        pool.preparedQuery(BY_ID).execute(Tuple.of(id)).onComplete(done -> {
            if (done.failed()) {
                request.response().setStatusCode(500).end();
                return;
            }
            RowSet<Row> rows = done.result();
            if (rows.size() == 0) {
                request.response().setStatusCode(404).end();
                return;
            }
            try {
                request.response().putHeader("Content-Type", "application/json")
                        .end(JSON.writeValueAsString(Order.of(io.vertx.mutiny.sqlclient.Row.newInstance(rows.iterator()
                                .next()))));
            } catch (Exception e) {
                request.response().setStatusCode(500).end();
            }
        });
    }

    private static PublicKey publicKey(Path pem) throws Exception {
        List<String> lines = Files.readAllLines(pem).stream().filter(line -> !line.startsWith("-----")).toList();
        byte[] der = Base64.getMimeDecoder().decode(String.join("", lines));
        return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der));
    }
}
