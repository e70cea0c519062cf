package io.readside.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP gate in front of PostgreSQL: while open it forwards connections to the server; while shut it refuses them
 * (accepts, reads the client's startup message to learn its {@code application_name}, and closes), so the database
 * is unreachable for the clients that connect through it and reachable for the others (Flyway, at start).
 */
public final class DatabaseGate implements AutoCloseable {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final ServerSocket server;
    private final int targetPort;
    private final Set<Socket> forwarded = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicInteger> refused = new ConcurrentHashMap<>();
    private volatile boolean open;

    private DatabaseGate(ServerSocket server, int targetPort) {
        this.server = server;
        this.targetPort = targetPort;
    }

    /** A shut gate on a free local port, to PostgreSQL on {@code targetPort}. */
    public static DatabaseGate shut(int targetPort) {
        try {
            DatabaseGate gate = new DatabaseGate(new ServerSocket(0, 50, LOOPBACK), targetPort);
            Thread acceptor = new Thread(gate::accept, "database-gate");
            acceptor.setDaemon(true);
            acceptor.start();
            return gate;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The reactive client's URL of the database through this gate. */
    public String reactiveUrl(String database) {
        return "postgresql://" + LOOPBACK.getHostAddress() + ":" + server.getLocalPort() + "/" + database;
    }

    public void open() {
        open = true;
    }

    /** How many connections of clients naming themselves {@code applicationName} were refused. */
    public int refused(String applicationName) {
        AtomicInteger count = refused.get(applicationName);
        return count == null ? 0 : count.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (open) {
                    forward(client);
                } else {
                    refuse(client);
                }
            } catch (IOException e) {
                if (!server.isClosed()) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    private void refuse(Socket client) {
        try (client) {
            client.setSoTimeout(5_000);
            refused.computeIfAbsent(applicationName(new DataInputStream(client.getInputStream())),
                    name -> new AtomicInteger()).incrementAndGet();
        } catch (IOException e) {
            refused.computeIfAbsent("(unread)", name -> new AtomicInteger()).incrementAndGet();
        }
    }

    /** The application_name of a PostgreSQL StartupMessage: length, protocol version, then name/value C strings. */
    private static String applicationName(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 8 || length > 10_000) {
            return "(not a startup message)";
        }
        byte[] body = in.readNBytes(length - 4);
        String[] fields = new String(body, 4, body.length - 4, StandardCharsets.UTF_8).split("\0");
        for (int i = 0; i + 1 < fields.length; i += 2) {
            if (fields[i].equals("application_name")) {
                return fields[i + 1];
            }
        }
        return "(none)";
    }

    private void forward(Socket client) throws IOException {
        Socket upstream;
        try {
            upstream = new Socket(LOOPBACK, targetPort);
        } catch (IOException e) {
            client.close();
            return;
        }
        forwarded.add(client);
        forwarded.add(upstream);
        pump(client, upstream);
        pump(upstream, client);
    }

    private void pump(Socket from, Socket to) {
        Thread pump = new Thread(() -> {
            try (from; to) {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                in.transferTo(out);
            } catch (SocketException closed) {
                // one side went away: both sockets close
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                forwarded.remove(from);
                forwarded.remove(to);
            }
        }, "database-gate-pump");
        pump.setDaemon(true);
        pump.start();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (Socket socket : forwarded) {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
