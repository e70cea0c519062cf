package io.readside.projection.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.vertx.pgclient.PgConnectOptions;

/**
 * {@code readside.query.replicas} as the service reads it: pure logic. From a hostile review, each failing first: a
 * malformed URL's refusal printed its password and named no setting; a URL the client accepts was refused by a second
 * parser; a user without a password logged in with the client's default password "pass"; a URL's own password was
 * replaced; the same URL twice made two replicas with one name.
 */
class ReplicaUrlsTest {

    private static Map<String, PgConnectOptions> parse(List<String> warnings, String... urls) {
        return ReplicaUrls.parse(List.of(urls), "readside", "datasource-secret", warnings::add);
    }

    @Test
    void aMalformedEntryIsRefusedNamingTheSettingWithoutItsCredentials() {
        for (String url : List.of("postgresql://reader:s3cr3t@pw@localhost:5999/readside",
                "postgresql://reader:s3cr3t@localhost:notaport/readside?password=s3cr3t")) {
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> parse(new ArrayList<>(), "postgresql://localhost:5432/readside", url));
            assertTrue(refused.getMessage().contains("readside.query.replicas: entry 2"), refused.getMessage());
            assertFalse(refused.getMessage().contains("s3cr3t"), refused.getMessage());
            assertEquals(null, refused.getCause(), "the client's message quotes the URL whole");
        }
    }

    @Test
    void aUrlTheClientParsesIsTaken() {
        PgConnectOptions options = parse(new ArrayList<>(), "postgresql://db:5433/readside?application_name=read side")
                .get("db:5433/readside");
        assertEquals("read side", options.getProperties().get("application_name"));
    }

    @Test
    void whatAUrlDoesNotGiveIsThePrimarysNeverTheClientsDefault() {
        PgConnectOptions bare = parse(new ArrayList<>(), "postgresql://db/readside").get("db:5432/readside");
        assertEquals("readside", bare.getUser());
        assertEquals("datasource-secret", bare.getPassword());
        PgConnectOptions userOnly = parse(new ArrayList<>(), "postgresql://reader@db/readside").get("db:5432/readside");
        assertEquals("reader", userOnly.getUser());
        assertEquals("datasource-secret", userOnly.getPassword(), "not the client's default \"pass\"");
        PgConnectOptions passwordInQuery = parse(new ArrayList<>(), "postgresql://db/readside?password=replica-secret")
                .get("db:5432/readside");
        assertEquals("readside", passwordInQuery.getUser());
        assertEquals("replica-secret", passwordInQuery.getPassword());
        PgConnectOptions both = parse(new ArrayList<>(), "postgresql://reader:r%40d@db/readside")
                .get("db:5432/readside");
        assertEquals("reader", both.getUser());
        assertEquals("r@d", both.getPassword());
    }

    @Test
    void blankEntriesAreSkippedAndASecondEntryForTheSameServerIsLeftOutWithAWarning() {
        List<String> warnings = new ArrayList<>();
        Map<String, PgConnectOptions> replicas = parse(warnings, " ", "postgresql://db:5433/readside", "",
                "postgresql://reader@db:5433/readside?sslmode=disable", "postgresql://db2/readside");
        assertEquals(List.of("db:5433/readside", "db2:5432/readside"), List.copyOf(replicas.keySet()));
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("db:5433/readside more than once: entry 4"), warnings.get(0));
    }

    @Test
    void aUrlIsShownWithoutItsUserInformationOrQuery() {
        assertEquals("postgresql://***@db:5432/readside?...",
                ReplicaUrls.redacted("postgresql://reader:s3cr3t@pw@db:5432/readside?password=x"));
        assertEquals("postgresql://db/readside", ReplicaUrls.redacted("postgresql://db/readside"));
    }
}
