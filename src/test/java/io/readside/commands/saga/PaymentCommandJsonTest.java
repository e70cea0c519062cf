package io.readside.commands.saga;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.CommandsInfrastructure;

/**
 * A payment command written by its own generator is the text the service's ObjectMapper (its naming, its dates, its
 * inclusion rule) writes for it, character for character: every member present or absent, amounts as parsed (12.5,
 * 12.50, 1E+3, exponents of a thousand, the largest total), times to the nanosecond and before 1970, ids with quotes,
 * backslashes, control characters, characters outside the BMP, lone surrogates and a megabyte (more than a validated
 * order id or total can hold: the two writers agree on any input, not only on what the schemas accept).
 */
@QuarkusTest
@TestProfile(CommandsInfrastructure.class)
class PaymentCommandJsonTest {

    @Inject
    ObjectMapper mapper;

    @Test
    void aCommandWrittenByItsGeneratorIsWhatTheServicesMapperWrites() throws JsonProcessingException {
        List<PaymentCommand> commands = new ArrayList<>();
        String[] ids = { "o-1", "", "quote\"back\\slash", "line\nfeed\ttab\u0000nul\u001f", "caf\u00e9 \u20ac",
                "\uD83D\uDE00 emoji", "lone \uD800 surrogate", "\uDFFF", "\u2028\u2029", "</script>", "x".repeat(200),
                "y".repeat(1 << 20) };
        String[] amounts = { "12.50", "12.5", "0", "0.01", "1E+3", "999999.99", "1000000", "-1.00", "123456789.12",
                "1E+1000", "1E-1000", "-0.00" };
        Instant[] times = { Instant.parse("2026-12-07T23:00:00Z"), Instant.parse("2026-12-07T23:00:00.100Z"),
                Instant.parse("2026-12-07T23:00:00.123456789Z"), Instant.parse("1969-12-31T23:59:59.999999Z"),
                Instant.EPOCH, Instant.parse("9999-12-31T23:59:59.999999Z") };
        String[] types = { PaymentCommand.REQUESTED, PaymentCommand.CANCEL_REQUESTED, PaymentCommand.REFUND_REQUESTED };
        String[] reasons = { null, "payment_timeout", "order_cancelled", "payment_not_expected" };
        Random random = new Random(24);
        for (String id : ids) {
            for (String amount : amounts) {
                commands.add(new PaymentCommand(types[random.nextInt(types.length)], id,
                        1 + (long) random.nextInt(Integer.MAX_VALUE), new BigDecimal(amount),
                        times[random.nextInt(times.length)], reasons[random.nextInt(reasons.length)]));
            }
        }
        // what a refund for an unknown order leaves out, and a command with nothing but its type
        commands.add(new PaymentCommand(PaymentCommand.REFUND_REQUESTED, "o-2", null, null, Instant.EPOCH,
                "payment_not_expected"));
        commands.add(new PaymentCommand(PaymentCommand.REQUESTED, null, null, null, null, null));
        commands.add(new PaymentCommand(null, "o-3", Long.MAX_VALUE, new BigDecimal("1.00"), null, null));
        for (PaymentCommand command : commands) {
            assertEquals(mapper.writeValueAsString(command), command.json(), command.toString());
            if (command.requestedAt() != null) {
                assertEquals(mapper.writeValueAsString(command), command.json(command.requestedAt().toString()));
            }
        }
    }
}
