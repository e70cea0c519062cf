package io.readside.projection.replay;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.readside.projection.Changelog;
import io.readside.projection.DeadLetters;
import io.readside.projection.LogGuard;
import io.vertx.mutiny.sqlclient.Pool;

/**
 * Sends dead letters back to the topic they came from, once whatever refused them is fixed: key, value and the
 * original headers as received, plus {@value #REDRIVEN_FROM} naming the dead letter. They are new records there, so
 * the projector reads them again (and sets them aside again if they are still refused). A stub (a record too large
 * to copy, {@link DeadLetters#STUB_HEADER}) is skipped: its record's bytes are in table {@code set_aside_records}.
 */
@ApplicationScoped
public class Redrive {

    private static final Logger LOG = Logger.getLogger(Redrive.class);

    public static final String REDRIVEN_FROM = "readside-redriven-from";
    /** most dead letters one request sends */
    public static final long MAX_RECORDS = 10_000;
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    public record Redriven(long deadLetterOffset, String topic, int partition, long offset) {
    }

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;
    @Inject
    Pool pool;
    @Inject
    LogCaughtUp caughtUp;
    @Inject
    LogGuard guard;
    @Inject
    @Any
    Instance<Changelog<?>> changelogs;

    /**
     * Re-publishes the dead letters of {@code topic} (from {@code <topic>.dlq}, the given partition) with offsets
     * {@code from..to} inclusive, in offset order; a record whose origin is another topic is left alone. Unless
     * {@code allowOlderVersions}, nothing is sent when any of them is older than the version of its entity that is
     * applied ({@link Changelog#newerVersionApplied}): redriven, it would move that entity backwards. That is asked
     * once everything written to the topic before the request is applied ({@link LogCaughtUp}).
     *
     * @throws IllegalArgumentException when the dead-letter partition or the topic does not exist
     * @throws OlderVersionsException when older versions are in the range and not allowed
     * @throws LogCaughtUp.NotCaughtUpException when the topic's records written before are not applied in time
     * @throws LogGuard.LogMismatchException when the topic is fenced, by any instance: nothing is judged or sent
     * @throws LogGuard.LogUnverifiedException when whether it is fenced cannot be told now
     */
    public List<Redriven> redrive(String topic, int partition, long from, long to, boolean allowOlderVersions) {
        TopicPartition deadLetters = new TopicPartition(topic + DeadLetters.SUFFIX, partition);
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        List<Long> sentOffsets = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false, // asking for a deleted topic never recreates it
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
                KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                        ProducerConfig.ACKS_CONFIG, "all",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                        ProducerConfig.LINGER_MS_CONFIG, 5),
                        new ByteArraySerializer(), new ByteArraySerializer())) {
            if (consumer.partitionsFor(deadLetters.topic()).stream().noneMatch(p -> p.partition() == partition)) {
                throw new IllegalArgumentException("topic " + deadLetters.topic() + " has no partition " + partition);
            }
            int partitions = consumer.partitionsFor(topic).size();
            if (partitions == 0) { // the producer's metadata request would create it (auto.create.topics.enable)
                throw new IllegalArgumentException("topic " + topic + " does not exist: a redrive never creates a "
                        + "topic; create it again, with its partitions, then redrive");
            }
            guard.requireSame(topic); // a fenced topic's positions say nothing of the log a redrive would write to
            consumer.assign(List.of(deadLetters));
            long end = Math.min(to + 1, consumer.endOffsets(List.of(deadLetters)).get(deadLetters));
            Changelog<?> changelog = allowOlderVersions ? null : changelogOf(topic);
            if (changelog != null) { // a first pass that only asks, so that nothing is sent when one is refused
                caughtUp.await(changelog, consumer, topic); // the versions still in the log are applied first
                List<Long> older = new ArrayList<>();
                forEachLetter(consumer, deadLetters, topic, from, end, letter -> {
                    if (newerVersionApplied(changelog, letter)) {
                        older.add(letter.offset());
                    }
                });
                if (!older.isEmpty()) {
                    throw new OlderVersionsException(older.size(), deadLetters, from, to, older.get(0));
                }
            }
            forEachLetter(consumer, deadLetters, topic, from, end, letter -> {
                Header kind = letter.headers().lastHeader(DeadLetters.KIND_HEADER);
                RecordHeaders headers = new RecordHeaders();
                Header[] all = letter.headers().toArray();
                Header own = letter.headers().lastHeader(DeadLetters.ORIGINAL_HEADERS);
                if (kind != null && own != null) { // the record's own headers, whatever their names
                    int count = Integer.parseInt(new String(own.value(), StandardCharsets.UTF_8));
                    for (int i = 0; i < Math.min(count, all.length); i++) {
                        headers.add(all[i]);
                    }
                } else { // a dead letter written before dead-letter-kind existed
                    for (Header header : all) {
                        if (!header.key().startsWith("dead-letter-")) {
                            headers.add(header);
                        }
                    }
                }
                headers.add(REDRIVEN_FROM, (deadLetters + "@" + letter.offset()).getBytes(StandardCharsets.UTF_8));
                sent.add(producer.send(new ProducerRecord<>(topic,
                        originalPartition(letter, partitions), letter.key(), letter.value(), headers)));
                sentOffsets.add(letter.offset());
            });
            producer.flush();
            List<Redriven> redriven = new ArrayList<>();
            for (int i = 0; i < sent.size(); i++) {
                RecordMetadata metadata = sent.get(i).get();
                redriven.add(new Redriven(sentOffsets.get(i), metadata.topic(), metadata.partition(), metadata.offset()));
            }
            LOG.infof("redrove %d dead letters of %s (offsets %d..%d) to %s%s", redriven.size(), deadLetters, from, to,
                    topic, allowOlderVersions ? ", older versions allowed" : "");
            return redriven;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("re-publishing to " + topic + " failed", e.getCause());
        }
    }

    /** Older versions in a redrive's range: nothing was sent. */
    public static final class OlderVersionsException extends RuntimeException {
        OlderVersionsException(int count, TopicPartition deadLetters, long from, long to, long first) {
            super(count + " of the dead letters of " + deadLetters + " at offsets " + from + ".." + to + " (the first "
                    + "at offset " + first + ") are older than the newer version of their entity that is applied: "
                    + "redriven, they would move those entities backwards, so nothing was redriven. Leave them out of "
                    + "the range, or redrive with allow-older-versions=true if moving them back is what you want",
                    null, false, false);
        }
    }

    /**
     * Calls {@code each} with the dead letters of {@code topic} at offsets {@code from} (inclusive) to {@code end}
     * (exclusive) of {@code deadLetters}, in offset order; letters of another origin and stubs (a record too large to
     * copy, whose bytes are in table {@code set_aside_records}) are skipped.
     */
    private static void forEachLetter(KafkaConsumer<byte[], byte[]> consumer, TopicPartition deadLetters,
            String topic, long from, long end, Consumer<ConsumerRecord<byte[], byte[]>> each) {
        consumer.seek(deadLetters, from);
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (consumer.position(deadLetters) < end) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("reading " + deadLetters + " timed out at offset "
                        + consumer.position(deadLetters));
            }
            for (ConsumerRecord<byte[], byte[]> letter : consumer.poll(Duration.ofMillis(500))) {
                if (letter.offset() >= end) {
                    break;
                }
                Header origin = letter.headers().lastHeader("dead-letter-topic");
                if (origin == null || !topic.equals(new String(origin.value(), StandardCharsets.UTF_8))) {
                    continue;
                }
                Header kind = letter.headers().lastHeader(DeadLetters.KIND_HEADER);
                if (kind != null && "stub".equals(new String(kind.value(), StandardCharsets.UTF_8))) {
                    LOG.warnf("%s@%d is a stub, not a copy: not redriven (the record is in set_aside_records)",
                            deadLetters, letter.offset());
                    continue;
                }
                each.accept(letter);
            }
        }
    }

    private boolean newerVersionApplied(Changelog<?> changelog, ConsumerRecord<byte[], byte[]> letter) {
        Long origin = number(letter, "dead-letter-offset");
        Long originPartition = number(letter, "dead-letter-partition");
        if (origin == null || originPartition == null) { // where it was read is unknown: nothing to compare with
            return false;
        }
        return changelog.newerVersionApplied(pool, letter.key(), originPartition.intValue(), origin).await()
                .atMost(READ_TIMEOUT);
    }

    private Changelog<?> changelogOf(String topic) {
        return changelogs.stream().filter(changelog -> changelog.topic().equals(topic)).findFirst().orElse(null);
    }

    /** A header written as a non-negative decimal number (as Readside writes dead-letter-offset), or null. */
    private static Long number(ConsumerRecord<byte[], byte[]> letter, String name) {
        Header header = letter.headers().lastHeader(name);
        if (header == null || header.value() == null || header.value().length == 0 || header.value().length > 18) {
            return null;
        }
        String text = new String(header.value(), StandardCharsets.US_ASCII);
        return text.chars().allMatch(c -> c >= '0' && c <= '9') ? Long.parseLong(text) : null;
    }

    /**
     * The partition the record was read from (header {@code dead-letter-partition}), so that it lands beside its key's
     * other records whatever partitioner its producer used (librdkafka's is not Java's); null (the producer's choice)
     * when the header is missing or names a partition the topic no longer has.
     */
    static Integer originalPartition(ConsumerRecord<byte[], byte[]> letter, int partitions) {
        Header header = letter.headers().lastHeader("dead-letter-partition");
        if (header == null || header.value() == null || header.value().length == 0 || header.value().length > 9) {
            return null;
        }
        String text = new String(header.value(), StandardCharsets.US_ASCII);
        if (!text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        int partition = Integer.parseInt(text);
        return partition < partitions ? partition : null;
    }
}
