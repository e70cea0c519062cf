package io.readside.projection;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.quarkus.runtime.ImageMode;
import io.quarkus.runtime.StartupEvent;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.util.Native;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The Kafka clients' lz4 (the relay's producer compresses every batch with it, the consumers decompress what they
 * fetch) through lz4-java's JNI build of LZ4, as a plain {@code java -cp} program gets it. lz4-java picks its JNI
 * build by itself only when it was loaded by the system class loader ({@code LZ4Factory.fastestInstance()}), which
 * under Quarkus' class loader it never is: every batch went through the pure-Java implementation, the top frames of
 * the drain's profile (docs/benchmarks.md, sixth round). Loading the library explicitly, before the messaging
 * channels start, makes {@code fastestInstance()} choose it. Where it cannot be loaded (a platform lz4-java has no
 * build for, a temporary directory that is not writable or is mounted noexec) the clients keep the Java
 * implementation, which reads and writes the same format: slower, nothing else; said once in the log. A native
 * image, which does not carry the library, keeps the Java implementation.
 */
@ApplicationScoped
public class NativeLz4 {

    private static final Logger LOG = Logger.getLogger(NativeLz4.class);

    // before the messaging channels start (they observe StartupEvent at LIBRARY_BEFORE) and before the dev
    // infrastructure's broker (10), so that no client has made its compressor yet
    void load(@Observes @Priority(5) StartupEvent event) {
        if (ImageMode.current().isNativeImage()) {
            return; // the library is a resource of lz4-java's jar, which a native image does not carry
        }
        try {
            Native.load();
            // what fastestInstance() builds, asked here: it falls back to the Java build without a word
            LZ4Factory.nativeInstance();
            XXHashFactory.nativeInstance();
        } catch (LinkageError | RuntimeException e) { // UnsatisfiedLinkError and the like: a speed, not a stop
            LOG.warnf("lz4's native library could not be loaded or used (%s); the Kafka clients compress, decompress "
                    + "or checksum with lz4-java's Java implementation where it fails, which is slower", e.toString());
            return;
        }
        LOG.debugf("the Kafka clients' lz4: %s", LZ4Factory.fastestInstance());
    }
}
