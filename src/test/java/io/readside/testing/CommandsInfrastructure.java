package io.readside.testing;

/**
 * As {@link RealInfrastructure}, with a broker and a database of its own: commands create orders at the current
 * time, which would move the stream time of the partitions other tests fill with orders of a fixed past day.
 */
public class CommandsInfrastructure extends RealInfrastructure {
}
