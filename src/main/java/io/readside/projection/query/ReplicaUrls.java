package io.readside.projection.query;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import io.vertx.pgclient.PgConnectOptions;

/**
 * {@code readside.query.replicas} read once, by the PostgreSQL client's own parser: a URL's user and password are
 * kept, and what it does not give is the primary's (never the client's built-in defaults). A malformed entry
 * refuses the start, naming the setting and the entry without its credentials; a blank one is skipped, and a second
 * entry for the same {@code host:port/database} is skipped with a warning (one replica, one set of gauges).
 */
final class ReplicaUrls {

    static final String SETTING = "readside.query.replicas";

    private ReplicaUrls() {
    }

    /** The replicas by name ({@code host:port/database}), in the order given. */
    static Map<String, PgConnectOptions> parse(List<String> urls, String user, String password,
            Consumer<String> warn) {
        Map<String, PgConnectOptions> replicas = new LinkedHashMap<>();
        for (int i = 0; i < urls.size(); i++) {
            String url = urls.get(i).strip();
            if (url.isEmpty()) {
                continue;
            }
            PgConnectOptions options = options(url, i + 1, user, password);
            String name = name(options);
            if (replicas.putIfAbsent(name, options) != null) {
                warn.accept(SETTING + " names " + name + " more than once: entry " + (i + 1) + " is left out");
            }
        }
        return replicas;
    }

    /** One entry's options: the URL's own user and password, the primary's where it gives none. */
    static PgConnectOptions options(String url, int entry, String user, String password) {
        PgConnectOptions options;
        try {
            options = PgConnectOptions.fromUri(url);
        } catch (RuntimeException e) { // its message quotes the URL, password included: not passed on
            throw new IllegalArgumentException(SETTING + ": entry " + entry + " (" + redacted(url)
                    + ") is not a PostgreSQL URL such as postgresql://host:5432/database");
        }
        String userInfo = userInfo(url);
        if (userInfo.isEmpty() && !inQuery(url, "user")) {
            options.setUser(user);
        }
        if (!userInfo.contains(":") && !inQuery(url, "password")) {
            options.setPassword(password);
        }
        return options;
    }

    static String name(PgConnectOptions options) {
        return options.getHost() + ":" + options.getPort() + "/" + options.getDatabase();
    }

    /** The URL without its user information and query (where credentials go), for messages. */
    static String redacted(String url) {
        int scheme = url.indexOf("://");
        String rest = scheme < 0 ? url : url.substring(scheme + 3);
        int at = authority(rest).lastIndexOf('@');
        String shown = (scheme < 0 ? "" : url.substring(0, scheme + 3))
                + (at < 0 ? rest : "***@" + rest.substring(at + 1));
        int query = shown.indexOf('?');
        return query < 0 ? shown : shown.substring(0, query) + "?...";
    }

    private static String userInfo(String url) {
        int scheme = url.indexOf("://");
        String authority = authority(scheme < 0 ? url : url.substring(scheme + 3));
        int at = authority.lastIndexOf('@');
        return at < 0 ? "" : authority.substring(0, at);
    }

    private static String authority(String afterScheme) {
        int end = afterScheme.length();
        for (char stop : new char[] {'/', '?'}) {
            int found = afterScheme.indexOf(stop);
            if (found >= 0 && found < end) {
                end = found;
            }
        }
        return afterScheme.substring(0, end);
    }

    private static boolean inQuery(String url, String key) {
        int query = url.indexOf('?');
        if (query < 0) {
            return false;
        }
        for (String parameter : url.substring(query + 1).split("&")) {
            if (parameter.startsWith(key + "=")) {
                return true;
            }
        }
        return false;
    }
}
