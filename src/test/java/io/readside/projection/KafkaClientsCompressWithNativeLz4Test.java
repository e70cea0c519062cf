package io.readside.projection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.compress.Lz4BlockInputStream;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.ByteBufferOutputStream;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.readside.testing.RealInfrastructure;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The Kafka clients of the running service (this test runs in its class loader, not the system one) compress and
 * decompress lz4 with lz4-java's JNI build, as a plain program does, and keep every byte.
 */
@QuarkusTest
@TestProfile(RealInfrastructure.class)
class KafkaClientsCompressWithNativeLz4Test {

    @Test
    void theKafkaClientsLz4IsTheNativeBuildUnderQuarkusClassLoader() {
        assertNotSame(ClassLoader.getSystemClassLoader(), LZ4Factory.class.getClassLoader(),
                "the case: lz4-java loaded by Quarkus' class loader");
        // what Kafka's Lz4BlockOutputStream and Lz4BlockInputStream ask for
        assertEquals("JNI", LZ4Factory.fastestInstance().toString().replaceAll(".*:", ""),
                "the compressor of every producer batch and fetched batch");
        assertEquals("JNI", XXHashFactory.fastestInstance().toString().replaceAll(".*:", ""),
                "the checksum of every lz4 frame");
    }

    @Test
    void theDecompressorKafkaKeepsFromItsFirstFetchIsTheNativeBuild() throws ReflectiveOperationException {
        Field decompressor = Lz4BlockInputStream.class.getDeclaredField("DECOMPRESSOR");
        decompressor.setAccessible(true); // chosen once: by the first lz4 batch fetched, or here if none was yet
        assertEquals("LZ4JNISafeDecompressor", decompressor.get(null).getClass().getSimpleName());
    }

    @Test
    void kafkaLz4FramesWrittenAndReadHereKeepEveryByte() throws IOException {
        byte[] value = "{\"order_id\":\"o-1\",\"total\":12.50}".repeat(5_000).getBytes(StandardCharsets.UTF_8);
        Compression lz4 = Compression.lz4().build();
        ByteBufferOutputStream buffer = new ByteBufferOutputStream(1024);
        try (OutputStream out = lz4.wrapForOutput(buffer, RecordBatch.CURRENT_MAGIC_VALUE)) {
            out.write(value);
        }
        ByteBuffer compressed = buffer.buffer().flip();
        try (InputStream in = lz4.wrapForInput(compressed, RecordBatch.CURRENT_MAGIC_VALUE,
                BufferSupplier.create())) {
            assertArrayEquals(value, in.readAllBytes());
        }
    }
}
