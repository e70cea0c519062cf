package io.readside.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for a Kubernetes {@code -ro} Service: one address whose TCP connections go round robin
 * to several standbys (as kube-proxy balances a Service's connections across its endpoints). It can also blackhole
 * the connections it forwards (a lost node: no FIN, no RST, no byte ever again) and refuse new ones (no endpoint),
 * then forward new connections again (a replacement pod behind the same Service).
 */
public final class RoundRobinProxy implements AutoCloseable {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final ServerSocket server;
    private final List<Integer> backends;
    private final AtomicInteger next = new AtomicInteger();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    /** Connections of a generation below this are blackholed. */
    private final AtomicInteger frozenBelow = new AtomicInteger();
    private final AtomicInteger generation = new AtomicInteger();
    private volatile boolean refusing;
    private final CountDownLatch closed = new CountDownLatch(1);
    /** Backend port of each forwarded connection, counted. */
    public final ConcurrentHashMap<Integer, AtomicInteger> connections = new ConcurrentHashMap<>();

    public RoundRobinProxy(List<Integer> backends) {
        this.backends = backends;
        try {
            server = new ServerSocket(0, 200, LOOPBACK);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(this::accept, "round-robin-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Every connection forwarded so far never moves a byte again (and is never closed); new ones are refused. */
    public void blackhole() {
        refusing = true;
        frozenBelow.set(generation.incrementAndGet());
    }

    /** New connections are forwarded again (the blackholed ones stay blackholed). */
    public void recover() {
        refusing = false;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (refusing) {
                    client.close();
                    continue;
                }
                int port = backends.get(Math.floorMod(next.getAndIncrement(), backends.size()));
                Socket upstream;
                try {
                    upstream = new Socket(LOOPBACK, port);
                } catch (IOException e) {
                    client.close();
                    continue;
                }
                connections.computeIfAbsent(port, p -> new AtomicInteger()).incrementAndGet();
                int mine = generation.get();
                sockets.add(client);
                sockets.add(upstream);
                pump(client, upstream, mine);
                pump(upstream, client, mine);
            } catch (IOException e) {
                if (!server.isClosed()) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    private void pump(Socket from, Socket to, int mine) {
        Thread pump = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int read;
                while ((read = in.read(buffer)) >= 0) {
                    if (mine < frozenBelow.get()) {
                        closed.await(); // blackholed until the proxy closes: the bytes go nowhere, the sockets stay open
                    }
                    out.write(buffer, 0, read);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // one side went away
            }
            if (mine >= frozenBelow.get()) {
                try {
                    from.close();
                    to.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }, "round-robin-proxy-pump");
        pump.setDaemon(true);
        pump.start();
    }

    @Override
    public void close() {
        closed.countDown();
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket socket : sockets) {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
