package io.readside.values;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.regex.Pattern;

/**
 * Money from outside (a topic's JSON or an HTTP body) as an exact decimal with at most two decimal places, checked
 * by its size before any arithmetic: {@code 1e100000000} is 11 characters, and rescaling it would compute a
 * 100-million-digit integer. The columns hold {@code numeric(14,2)}.
 */
public final class Money {

    /** Digits before the decimal point that {@code numeric(14,2)} holds. */
    public static final int MAX_INTEGER_DIGITS = 12;
    /** The longest numeric string read as money ("999999999999.99" is 15 characters). */
    public static final int MAX_TEXT_LENGTH = 40;
    /** ASCII digits only: {@code "١٢.٥٠"} or full-width digits would be read by BigDecimal, and by few consumers. */
    private static final Pattern DECIMAL = Pattern.compile("[+-]?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?");

    private Money() {
    }

    /** A refused amount; the message says why without quoting it. */
    public static final class InvalidAmountException extends IllegalArgumentException {
        InvalidAmountException(String message) {
            super(message);
        }
    }

    /**
     * The amount at scale 2. Trailing zeros are not decimals ({@code 12.50000} is 12.50); a third decimal that is
     * not zero ({@code 12.505}, {@code 12.500000000000000001}) is refused, never rounded.
     *
     * @throws InvalidAmountException negative, more than two decimals, or more than {@link #MAX_INTEGER_DIGITS}
     *         digits before the point
     */
    public static BigDecimal exact(BigDecimal amount) {
        if (amount.signum() < 0) {
            throw new InvalidAmountException("must not be negative");
        }
        if (amount.signum() == 0) {
            return BigDecimal.ZERO.setScale(2);
        }
        // precision and scale are ints the BigDecimal already holds: nothing below depends on the exponent's size
        // until it is known to be small
        long integerDigits = (long) amount.precision() - amount.scale();
        if (integerDigits > MAX_INTEGER_DIGITS) {
            throw new InvalidAmountException("has more than " + MAX_INTEGER_DIGITS + " digits before the point");
        }
        if (amount.scale() > 2) {
            // cost bounded by the number of digits (at most Jackson's 1,000, or MAX_TEXT_LENGTH for a string)
            BigDecimal stripped = amount.stripTrailingZeros();
            if (stripped.scale() > 2) {
                throw new InvalidAmountException("has more than 2 decimals");
            }
            return stripped.setScale(2, RoundingMode.UNNECESSARY);
        }
        return amount.setScale(2, RoundingMode.UNNECESSARY);
    }

    /** As {@link #exact(BigDecimal)} for a numeric string such as {@code "6.25"}. */
    public static BigDecimal exact(String text) {
        if (text.isEmpty() || text.length() > MAX_TEXT_LENGTH) {
            throw new InvalidAmountException("must be a decimal amount of 1 to " + MAX_TEXT_LENGTH + " characters");
        }
        if (!DECIMAL.matcher(text).matches()) {
            throw new InvalidAmountException("must be a decimal amount such as 6.25 (ASCII digits, no spaces)");
        }
        try {
            return exact(new BigDecimal(text));
        } catch (NumberFormatException e) { // an exponent beyond an int
            throw new InvalidAmountException("must be a decimal amount such as 6.25");
        }
    }
}
