package io.readside.delivery;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.readside.orders.OrdersFold;
import io.readside.testing.Contracts;
import io.readside.testing.TestProducer;

/**
 * Seeded orders in the guide's format, with corrections, identical copies, late and past-grace orders, and 1% poison
 * records of every kind; each send is acknowledged and folded into the oracle ({@link OrdersFold}) in partition and
 * offset order. Poison records are remembered by where they landed, with the reason Readside must give.
 */
final class OrderTraffic implements AutoCloseable {

    static final String TOPIC = "orders";
    private static final List<String> CATEGORIES = List.of("books", "electronics", "games", "garden", "music", "toys",
            "food", "beauty", "sports", "tools", "office", "pets");
    private static final int USERS = 2_000;

    final OrdersFold fold = new OrdersFold();
    /** "partition@offset" -> the dead-letter reason expected for that poison record */
    final Map<String, String> poison = new TreeMap<>();
    private final KafkaProducer<byte[], byte[]> producer;
    private KafkaProducer<byte[], byte[]> transactional;
    private final Random random;
    private final List<String> ids = new ArrayList<>();
    private final Set<String> known = new HashSet<>();
    private final double poisonShare;
    private long clock = 1_764_230_000_000L;
    private int sequence;
    private long produced;

    OrderTraffic(String bootstrapServers, long seed, double poisonShare) {
        this.random = new Random(seed);
        this.poisonShare = poisonShare;
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1_048_576),
                new ByteArraySerializer(), new ByteArraySerializer());
    }

    private record Pending(Future<RecordMetadata> sent, String orderId, long userId, String category, BigDecimal total,
            Instant createdAt, String poisonReason, List<Item> items) {
    }

    /** An order's item; {@code sku} or {@code price} null when the order leaves it out. */
    record Item(String sku, int qty, BigDecimal price) {
    }

    /** Each order's items in its latest applied version (the skus read model's oracle), folded with {@link #fold}. */
    final Map<String, List<Item>> latestItems = new HashMap<>();
    /** Items drawn apart, so that the rest of the traffic is the seed's as before. */
    private final Random itemsRandom = new Random(20261206);

    /**
     * Sends {@code count} records and waits until the broker has them all.
     *
     * @return the order ids of the orders among them (not the poison records), in the order sent; an id twice when
     *         the call sent two versions of it
     */
    synchronized List<String> produce(int count) {
        List<Pending> pending = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            clock += 10 + random.nextInt(90);
            if (random.nextDouble() < poisonShare) {
                pending.add(poisonRecord());
                continue;
            }
            pending.add(nextOrder(producer));
        }
        fold(pending);
        produced += count;
        return pending.stream().filter(p -> p.poisonReason() == null).map(Pending::orderId).toList();
    }

    /**
     * Sends {@code transactions} transactions of 1 to 5 orders each with a transactional producer (as Kafka Streams,
     * Flink or Debezium do); about a quarter are aborted, and only the committed ones go into the oracle.
     *
     * @return the orders of aborted transactions (never to be applied)
     */
    synchronized int produceTransactions(int transactions, String bootstrapServers) {
        if (transactional == null) {
            transactional = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, "fault-injection-transactions",
                    ProducerConfig.LINGER_MS_CONFIG, 5),
                    new ByteArraySerializer(), new ByteArraySerializer());
            transactional.initTransactions();
        }
        int aborted = 0;
        for (int t = 0; t < transactions; t++) {
            transactional.beginTransaction();
            List<Pending> pending = new ArrayList<>();
            int size = 1 + random.nextInt(5);
            for (int i = 0; i < size; i++) {
                clock += 10 + random.nextInt(90);
                pending.add(nextOrder(transactional));
            }
            transactional.flush();
            if (random.nextDouble() < 0.25) {
                transactional.abortTransaction();
                pending.forEach(p -> TestProducer.await(p.sent()));
                aborted += size;
            } else {
                transactional.commitTransaction();
                fold(pending);
            }
            produced += size;
        }
        return aborted;
    }

    /** The oracle folds acknowledged records in partition and offset order. */
    private void fold(List<Pending> pending) {
        List<Object[]> acknowledged = new ArrayList<>(pending.size());
        for (Pending p : pending) {
            acknowledged.add(new Object[] { TestProducer.await(p.sent()), p });
        }
        acknowledged.sort(Comparator.comparing((Object[] a) -> ((RecordMetadata) a[0]).partition())
                .thenComparing(a -> ((RecordMetadata) a[0]).offset()));
        for (Object[] a : acknowledged) {
            RecordMetadata at = (RecordMetadata) a[0];
            Pending p = (Pending) a[1];
            if (p.poisonReason() != null) {
                poison.put(at.partition() + "@" + at.offset(), p.poisonReason());
            } else {
                fold.apply(at.partition(), at.offset(), p.orderId(), p.userId(), p.category(), p.total(), null,
                        p.createdAt());
                latestItems.put(p.orderId(), p.items());
            }
        }
    }

    /**
     * A new order, or (one time in ten) a new version of a known one, with a user, category and total drawn anew (so
     * eleven corrections in twelve move the order to another category); some late, a few past the grace.
     */
    private Pending nextOrder(KafkaProducer<byte[], byte[]> sender) {
        double kind = random.nextDouble();
        String id = !ids.isEmpty() && kind < 0.10 ? ids.get(random.nextInt(ids.size()))
                : "o-" + sequence++;
        if (known.add(id)) {
            ids.add(id);
        }
        double lateness = random.nextDouble();
        long createdAt = clock - (lateness < 0.02 ? 400_000 + random.nextInt(300_000)
                : lateness < 0.10 ? random.nextInt(200_000) : random.nextInt(1_000));
        long user = 1 + random.nextInt(USERS);
        String category = CATEGORIES.get(random.nextInt(CATEGORIES.size()));
        BigDecimal total = BigDecimal.valueOf(100 + random.nextInt(99_900), 2);
        List<Item> items = items();
        String json = Contracts.valid(TOPIC, """
                {"order_id":"%s","user_id":%d,"category":"%s","total":"%s","timestamp":%d.%03d%s}"""
                .formatted(id, user, category, total, createdAt / 1000, createdAt % 1000, json(items)));
        return new Pending(sender.send(new ProducerRecord<>(TOPIC, id.getBytes(StandardCharsets.UTF_8),
                json.getBytes(StandardCharsets.UTF_8))), id, user, category, total, Instant.ofEpochMilli(createdAt),
                null, items);
    }

    /** One order in four lists no items; the others up to three, one in ten without a SKU, one in ten without a price. */
    private List<Item> items() {
        List<Item> items = new ArrayList<>();
        if (itemsRandom.nextInt(4) == 0) {
            return null;
        }
        for (int n = itemsRandom.nextInt(3); n >= 0; n--) {
            int kind = itemsRandom.nextInt(10);
            items.add(new Item(kind == 0 ? null : "fi-s-" + itemsRandom.nextInt(15), 1 + itemsRandom.nextInt(3),
                    kind == 1 ? null : BigDecimal.valueOf(1 + itemsRandom.nextInt(9_999), 2)));
        }
        return items;
    }

    private static String json(List<Item> items) {
        if (items == null) {
            return "";
        }
        StringBuilder json = new StringBuilder(",\"items\":[");
        for (Item item : items) {
            json.append(json.charAt(json.length() - 1) == '[' ? "{" : ",{");
            if (item.sku() != null) {
                json.append("\"sku\":\"").append(item.sku()).append("\",");
            }
            json.append("\"qty\":").append(item.qty());
            if (item.price() != null) {
                json.append(",\"price\":").append(item.price().toPlainString());
            }
            json.append('}');
        }
        return json.append(']').toString();
    }

    synchronized long produced() {
        return produced;
    }

    /** One of the kinds of bad input the issue lists, with the reason Readside gives it. */
    private Pending poisonRecord() {
        String id = "poison-" + sequence++;
        String ok = "\"order_id\":\"" + id + "\",\"user_id\":7,\"category\":\"books\",\"timestamp\":1764230000";
        String unknownFields = "\"order_id\":\"" + id + "\",\"user_id\":7,\"total\":\"1.00\"";
        return switch (random.nextInt(15)) {
            case 0 -> poison(id, "{\"order_id\":\"" + id + "\",", "malformed-json");
            case 1 -> new Pending(send(id, new byte[] { '{', (byte) 0xC3, (byte) 0x28, '}' }), id, 0, null, null,
                    null, "not-utf8", null);
            case 2 -> poison(id, "{\"order_id\":\"" + id + "\",\"user_id\":7,\"total\":\"1.00\",\"timestamp\":1}",
                    "missing-field");
            case 3 -> poison(id, "{" + ok.replace("\"user_id\":7", "\"user_id\":\"seven\"") + ",\"total\":\"1.00\"}",
                    "wrong-type");
            case 4 -> poison(id, "{" + ok + ",\"total\":\"-5.00\"}", "invalid-value");
            case 5 -> poison(id, "{" + ok + ",\"total\":1e12}", "invalid-value");
            case 6 -> new Pending(send(null, ("{" + ok + ",\"total\":\"1.00\"}").getBytes(StandardCharsets.UTF_8)),
                    id, 0, null, null, null, "missing-key", null);
            case 7 -> poison(id, "{" + ok + ",\"total\":-1e2000000}", "invalid-value");
            case 8 -> poison(id, "{" + ok + ",\"total\":1e100000000}", "invalid-value");
            case 9 -> poison(id, "{" + unknownFields + ",\"category\":\"bo\\u0000oks\",\"timestamp\":1764230000}",
                    "invalid-value");
            case 10 -> poison(id, "{" + unknownFields + ",\"category\":\"\\udc00\",\"timestamp\":1764230000}",
                    "invalid-value");
            case 11 -> poison(id, "{" + unknownFields + ",\"category\":\"books\",\"timestamp\":1e100000000}",
                    "invalid-value");
            case 12 -> poison(id, "{" + unknownFields + ",\"category\":\"books\",\"timestamp\":"
                    + (Instant.now().getEpochSecond() + 86_400) + "}", "future-timestamp");
            case 13 -> new Pending(producer.send(new ProducerRecord<>(TOPIC, new byte[] { 'p', (byte) 0xff },
                    ("{" + ok + ",\"total\":\"1.00\"}").getBytes(StandardCharsets.UTF_8))), id, 0, null, null, null,
                    "not-utf8", null);
            default -> poison(id, "{" + ok + ",\"total\":\"1.00\",\"note\":\"" + "x".repeat(70_000) + "\"}",
                    "oversized");
        };
    }

    private Pending poison(String id, String value, String reason) {
        return new Pending(send(id, value.getBytes(StandardCharsets.UTF_8)), id, 0, null, null, null, reason, null);
    }

    private Future<RecordMetadata> send(String key, byte[] value) {
        return producer.send(new ProducerRecord<>(TOPIC, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value));
    }

    @Override
    public void close() {
        producer.close();
        if (transactional != null) {
            transactional.close();
        }
    }
}
