package io.readside.projection.outbox;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.jboss.logging.Logger;

import io.readside.projection.DeadLetters;

/**
 * A relay batch's records to the broker until each one is acknowledged or refused for good. A record the broker
 * refuses for good ({@link DeadLetters#isFinal}: too large for the topic, not authorized, invalid) is returned as
 * refused, to be parked; the others go on. A transient failure (broker down, a time-out, not enough replicas) is
 * retried with back-off, re-sending only the records that failed and, to keep each key's order, every later record of
 * the same topic and key. Stops with {@link NoLongerTheRelay} when the relay stops or its session (which holds
 * the one-relay lock) no longer answers: nothing is marked then, the caller drops what the producers still hold before
 * the lock goes, and the next relay publishes the batch again (at least once).
 *
 * <p>Re-sends, and every send to a topic that refused a record in the last {@value #CAREFUL_MINUTES} minutes, go
 * through a second producer that puts each record in a request of its own ({@code batch.size=0}). A topic whose
 * {@code max.message.bytes} is below the producer's {@code batch.size} makes the Kafka producer split a refused batch
 * again and again without ever failing it (KAFKA-8350), until its delivery time-out; a batch of one record cannot be
 * split, so the broker's refusal reaches the relay as {@code RecordTooLargeException}.
 */
final class RelaySends {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);
    static final int CAREFUL_MINUTES = 10;
    /** A topic the broker does not know for this long: its records are refused for good (parked). */
    static final long MISSING_TOPIC_MILLIS = TimeUnit.MINUTES.toMillis(2);

    /** Per record of the batch (same index): where it landed, or null when it was refused (see {@code refused}). */
    record Outcome(RecordMetadata[] acknowledged, Map<Integer, Exception> refused) {
    }

    private final Producer<byte[], byte[]> batching;
    private final Producer<byte[], byte[]> oneByOne;
    /** Topics that refused a record for good, and until when they are sent one record at a time. */
    private final Map<String, Long> careful = new java.util.concurrent.ConcurrentHashMap<>();
    /** When the broker last acknowledged a record: a topic is missing only while the broker answers. */
    private volatile long lastAcknowledged;
    /** Topics the broker did not know, since when. */
    private final Map<String, Long> missingSince = new java.util.concurrent.ConcurrentHashMap<>();
    RelaySends(Producer<byte[], byte[]> batching, Producer<byte[], byte[]> oneByOne) {
        this.batching = batching;
        this.oneByOne = oneByOne;
    }

    /**
     * The relay stopped, or its session (which holds the lock) ended, with records not acknowledged: the batch is
     * abandoned; a relay that is still running connects again and starts over, as the next relay would.
     */
    static final class NoLongerTheRelay extends RuntimeException {
        NoLongerTheRelay() {
            super("the relay stopped or lost its session (and its lock) with records not acknowledged", null, false,
                    false);
        }
    }

    /** {@code stillTheRelay}: asked before each re-send; false stops ({@link NoLongerTheRelay}). */
    Outcome sendAll(List<ProducerRecord<byte[], byte[]>> records, BooleanSupplier stillTheRelay)
            throws InterruptedException {
        RecordMetadata[] acknowledged = new RecordMetadata[records.size()];
        Map<Integer, Exception> refused = new TreeMap<>();
        List<Integer> pending = new ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
            pending.add(i);
        }
        for (int attempt = 0; !pending.isEmpty(); attempt++) {
            List<CompletableFuture<RecordMetadata>> sends = new ArrayList<>(pending.size());
            long now = System.currentTimeMillis();
            Map<String, Exception> unknown = unknownTopics(records, pending, now);
            for (int i : pending) {
                ProducerRecord<byte[], byte[]> record = records.get(i);
                boolean oneAtATime = attempt > 0 || careful.getOrDefault(record.topic(), 0L) > now;
                sends.add(unknown.containsKey(record.topic())
                        ? CompletableFuture.failedFuture(unknown.get(record.topic()))
                        : send(oneAtATime ? oneByOne : batching, record));
            }
            Set<Integer> failed = new HashSet<>();
            Exception cause = null;
            for (int k = 0; k < pending.size(); k++) {
                int i = pending.get(k);
                try {
                    acknowledged[i] = sends.get(k).get();
                    lastAcknowledged = System.currentTimeMillis();
                } catch (ExecutionException e) {
                    Exception error = e.getCause() instanceof Exception ex ? ex : e;
                    if (DeadLetters.isFinal(error)) {
                        refused.put(i, error);
                        careful.put(records.get(i).topic(), now + TimeUnit.MINUTES.toMillis(CAREFUL_MINUTES));
                    } else {
                        failed.add(i);
                        cause = error;
                    }
                }
            }
            if (failed.isEmpty()) {
                break;
            }
            List<Integer> again = again(records, pending, failed);
            again.forEach(i -> {
                acknowledged[i] = null;
                refused.remove(i);
            });
            long backOff = OutboxRelay.backOffMillis(attempt);
            LOG.warnf("the broker did not acknowledge %d of %d records (%s); re-sending them and the later records of "
                    + "their keys (%d in all), one request each, in %d ms", failed.size(), pending.size(),
                    DeadLetters.describe(cause), again.size(), backOff);
            Thread.sleep(backOff);
            if (!stillTheRelay.getAsBoolean()) {
                throw new NoLongerTheRelay();
            }
            pending = again;
        }
        return new Outcome(acknowledged, refused);
    }

    /**
     * The topics of the pending records that the broker does not know (each asked once per attempt; the producer's
     * metadata answers at once for a known one): a transient failure, and a final one ({@link InvalidTopicException},
     * parked) once the topic has been missing for {@link #MISSING_TOPIC_MILLIS} while the broker acknowledged other
     * records, so that one missing topic does not hold the other outputs back for good.
     */
    private Map<String, Exception> unknownTopics(List<ProducerRecord<byte[], byte[]>> records, List<Integer> pending,
            long now) {
        Map<String, Exception> unknown = new java.util.HashMap<>();
        java.util.Set<String> topics = new java.util.LinkedHashSet<>();
        pending.forEach(i -> topics.add(records.get(i).topic()));
        for (String topic : topics) {
            try {
                batching.partitionsFor(topic);
                missingSince.remove(topic);
            } catch (KafkaException e) {
                long since = missingSince.computeIfAbsent(topic, t -> now);
                boolean brokerAnswers = lastAcknowledged > since; // a broker that is down knows no topic
                unknown.put(topic, now - since < MISSING_TOPIC_MILLIS || !brokerAnswers ? e
                        : new InvalidTopicException("the broker has not known topic " + topic + " for "
                                + (now - since) / 1000 + " s (" + DeadLetters.describe(e) + ")"));
            }
        }
        return unknown;
    }

    /** The failed records and, in order, every later pending record with the topic and key of an earlier failed one. */
    static List<Integer> again(List<ProducerRecord<byte[], byte[]>> records, List<Integer> pending, Set<Integer> failed) {
        Set<TopicKey> blocked = new HashSet<>();
        List<Integer> again = new ArrayList<>();
        for (int i : pending) {
            ProducerRecord<byte[], byte[]> record = records.get(i);
            TopicKey key = record.key() == null ? null : new TopicKey(record.topic(), record.key());
            if (failed.contains(i) || (key != null && blocked.contains(key))) {
                again.add(i);
                if (key != null) {
                    blocked.add(key);
                }
            }
        }
        return again;
    }

    /**
     * A send, completed by the producer's callback (a split batch's futures chain, and waiting on a long chain
     * overflows the stack); one that fails before it reaches the producer's buffer fails as the broker's refusal would.
     */
    private static CompletableFuture<RecordMetadata> send(Producer<byte[], byte[]> producer,
            ProducerRecord<byte[], byte[]> record) {
        CompletableFuture<RecordMetadata> done = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, e) -> {
                if (e != null) {
                    done.completeExceptionally(e);
                } else {
                    done.complete(metadata);
                }
            });
        } catch (KafkaException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    /** A topic and a key, compared by the key's bytes. */
    record TopicKey(String topic, byte[] key) {

        @Override
        public boolean equals(Object other) {
            return other instanceof TopicKey that && topic.equals(that.topic) && Arrays.equals(key, that.key);
        }

        @Override
        public int hashCode() {
            return 31 * topic.hashCode() + Arrays.hashCode(key);
        }
    }
}
