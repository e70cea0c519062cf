package io.readside.projection;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.Config;

import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.smallrye.reactive.messaging.kafka.KafkaProducer;
import io.smallrye.reactive.messaging.kafka.KafkaRecord;

/**
 * Publishes a batch's records on an outgoing channel with the Kafka producer SmallRye made for that channel (so the
 * channel's properties configure it: acks, idempotence, compression, linger): all of them at once on the channel's
 * sending thread, completing when the broker has acknowledged every one. Sending through the channel's emitter costs
 * a message, a captured context, a retry operator and a thread hop per record, which was the largest item of the
 * drain's profile (docs/benchmarks.md). A channel that is not on Kafka (the in-memory test tier) goes through its
 * emitter, record by record.
 */
@ApplicationScoped
public class ChannelProducers {

    /** A record to publish: its key and value (serialized by the channel's serializers). */
    public record Keyed<V>(String key, V value) {
    }

    @Inject
    KafkaClientService kafka;
    @Inject
    Config config;

    private final Map<String, String> topics = new ConcurrentHashMap<>();

    /**
     * Sends {@code records} (lazy: when subscribed; again on each subscription) to the topic of {@code channel};
     * fails with the first send's failure (the caller retries the whole batch: at least once).
     */
    public <V> Uni<Void> send(String channel, MutinyEmitter<V> emitter, List<Keyed<V>> records) {
        if (records.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return Uni.createFrom().deferred(() -> {
            KafkaProducer<String, V> producer = kafka.getProducer(channel);
            if (producer == null) {
                return Uni.join().all(records.stream()
                        .map(record -> emitter.sendMessage(KafkaRecord.of(record.key(), record.value()))).toList())
                        .andFailFast().replaceWithVoid();
            }
            String topic = topics.computeIfAbsent(channel, c -> config
                    .getOptionalValue("mp.messaging.outgoing." + c + ".topic", String.class).orElse(c));
            CompletableFuture<Void> acknowledged = new CompletableFuture<>();
            AtomicInteger pending = new AtomicInteger(records.size());
            Callback callback = (metadata, e) -> {
                if (e != null) {
                    acknowledged.completeExceptionally(e);
                } else if (pending.decrementAndGet() == 0) {
                    acknowledged.complete(null);
                }
            };
            // the acknowledgements come on the producer's network thread: the caller's work goes on where it began
            Context caller = Vertx.currentContext();
            Uni<Void> sent = producer.runOnSendingThread(kafkaProducer -> {
                for (Keyed<V> record : records) {
                    kafkaProducer.send(new ProducerRecord<>(topic, record.key(), record.value()), callback);
                }
            }).chain(() -> Uni.createFrom().completionStage(acknowledged));
            return caller == null ? sent : sent.emitOn(task -> caller.runOnContext(ignored -> task.run()));
        });
    }
}
