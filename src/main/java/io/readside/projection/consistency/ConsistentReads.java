package io.readside.projection.consistency;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a resource of a read model: its GETs take a consistency token ({@code X-Consistency-Token} header or
 * {@code consistency_token} query parameter) and answer only once the read model has applied that write
 * ({@link ConsistencyFilter}). Names the incoming channels whose records the read model applies.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
public @interface ConsistentReads {
    String[] value();

    /**
     * The read models the resource answers from, by name: a token is honoured only once each is up to date with the
     * others ({@link ReadModelsBehind}: not stopped on a failure, filled); otherwise the read is a 503 with
     * Retry-After, never an answer that may lack the write.
     */
    String[] readModels() default {};
}
