package io.readside.web;

import java.io.IOException;
import java.io.InputStream;
import java.util.Set;

import jakarta.annotation.security.PermitAll;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;

import io.readside.values.Quote;

/**
 * The topics' contract, public like {@code /q/openapi}: the AsyncAPI document at {@code /asyncapi.yaml} and the
 * payload schemas it refers to ({@code schemas/orders.json}, relative to it) at {@code /schemas/{file}}. Both are
 * files of the jar ({@code src/main/resources}), served as they are. Not an API operation (no OpenAPI entry).
 */
@Path("/")
@PermitAll
public class ContractsResource {

    static final String DOCUMENT = "asyncapi.yaml";
    /** The files of {@code schemas/}, the only names served (ContractDocumentTest keeps the list whole). */
    public static final Set<String> SCHEMAS = Set.of("common.json", "user-events.json", "orders.json", "payments.json",
            "processed-orders.json", "revenue-by-category.json", "payment-requests.json", "refund-requests.json",
            "dead-letter-stub.json");

    @GET
    @Path(DOCUMENT)
    @Produces("application/yaml")
    @Operation(hidden = true)
    public byte[] asyncApi() {
        return resource(DOCUMENT);
    }

    @GET
    @Path("schemas/{file}")
    @Produces("application/schema+json")
    @Operation(hidden = true)
    public byte[] schema(@PathParam("file") String file) {
        if (!SCHEMAS.contains(file)) {
            throw ProblemException.notFound("No schema " + Quote.of(file) + "; the schemas are named in /asyncapi.yaml");
        }
        return resource("schemas/" + file);
    }

    private static byte[] resource(String name) {
        try (InputStream in = Thread.currentThread().getContextClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(name + " could not be read", e);
        }
    }
}
