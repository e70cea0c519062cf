package io.readside.contracts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The documentation's relative links lead somewhere: every link of README.md and of docs/*.md that is not a URL
 * names a file or folder of the repository, and its {@code #anchor}, if any, a heading of that file (GitHub's
 * heading ids). Every page of docs/ is one click from the README. Pure: it reads the files, nothing runs.
 */
class DocumentationLinksTest {

    private static final Path ROOT = Path.of("").toAbsolutePath().normalize();
    /** {@code [text](target)} and {@code ![alt](target)}, with an optional title after the target. */
    private static final Pattern INLINE_LINK = Pattern.compile("\\]\\(\\s*<?([^)\\s>]*)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
    /** {@code [label]: target} at the start of a line. */
    private static final Pattern REFERENCE = Pattern.compile("^\\s{0,3}\\[[^\\]]+\\]:\\s*<?(\\S+?)>?(?:\\s+.*)?$");
    private static final Pattern CODE_SPAN = Pattern.compile("(`+)(.+?)\\1");
    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:");
    private static final Pattern HEADING = Pattern.compile("^ {0,3}#{1,6}\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern MARKDOWN_LINK_TEXT = Pattern.compile("!?\\[([^\\]]*)\\]\\([^)]*\\)");
    /** What GitHub drops from a heading's text to make its id: all but letters, marks, digits, '_', ' ' and '-'. */
    private static final Pattern NOT_IN_ID = Pattern.compile("[^\\p{L}\\p{M}\\p{N}\\p{Pc} -]");

    /** README.md and every Markdown file under docs/. */
    static List<Path> documents() throws IOException {
        List<Path> documents = new ArrayList<>();
        documents.add(ROOT.resolve("README.md"));
        try (Stream<Path> docs = Files.walk(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(documents::add);
        }
        return documents;
    }

    @Test
    void everyRelativeLinkPointsAtAFileThatExists() throws IOException {
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (Path document : documents()) {
            for (Link link : links(document)) {
                if (link.path().isEmpty()) {
                    continue; // an anchor of the same file: see the next test
                }
                checked++;
                Path target = link.target();
                if (!target.startsWith(ROOT)) {
                    broken.add(link + ": leaves the repository");
                } else if (!Files.exists(target)) {
                    broken.add(link + ": no such file " + ROOT.relativize(target));
                }
            }
        }
        assertTrue(checked >= 10, "links found: " + checked);
        assertEquals(List.of(), broken, "relative links to files that do not exist");
    }

    @Test
    void everyAnchorPointsAtAHeading() throws IOException {
        List<String> broken = new ArrayList<>();
        Map<Path, Set<String>> idsOf = new HashMap<>();
        int checked = 0;
        for (Path document : documents()) {
            for (Link link : links(document)) {
                Path target = link.target();
                if (link.anchor() == null || !target.toString().endsWith(".md") || !Files.isRegularFile(target)) {
                    continue;
                }
                checked++;
                Set<String> ids = idsOf.computeIfAbsent(target, DocumentationLinksTest::headingIds);
                if (!ids.contains(link.anchor())) {
                    broken.add(link + ": " + ROOT.relativize(target) + " has no heading #" + link.anchor()
                            + " (its headings: " + ids + ")");
                }
            }
        }
        assertTrue(checked >= 5, "anchors found: " + checked);
        assertEquals(List.of(), broken, "anchors that name no heading");
    }

    @Test
    void everyPageOfDocsIsLinkedFromTheReadme() throws IOException {
        Path readme = ROOT.resolve("README.md");
        Set<Path> linked = new TreeSet<>();
        for (Link link : links(readme)) {
            linked.add(link.target());
        }
        List<String> unlinked = new ArrayList<>();
        for (Path document : documents()) {
            if (!document.equals(readme) && !linked.contains(document)) {
                unlinked.add(ROOT.relativize(document).toString());
            }
        }
        assertEquals(List.of(), unlinked, "pages of docs/ the README does not link to");
    }

    @Test
    void everyPageOfDocsLinksBackToTheReadme() throws IOException {
        Path readme = ROOT.resolve("README.md");
        List<String> noWayBack = new ArrayList<>();
        for (Path document : documents()) {
            if (!document.equals(readme) && links(document).stream().noneMatch(link -> link.target().equals(readme))) {
                noWayBack.add(ROOT.relativize(document).toString());
            }
        }
        assertEquals(List.of(), noWayBack, "pages of docs/ with no link back to the README");
    }

    /** The id generator itself, on headings of these pages, so that a wrong one cannot pass every anchor. */
    @Test
    void headingIdsAreGitHubs() {
        assertEquals("dead-letters-topicdlq", id("Dead letters: `<topic>.dlq`"));
        assertEquals("admin-operations-rebuild-and-redrive", id("Admin operations: rebuild and redrive"));
        assertEquals("lag-health-and-what-to-look-at", id("Lag, health and what to look at"));
        assertEquals("figures-measured", id("Figures (measured)"));
        assertEquals("user-events--read-model-users", id("`user-events` → read model `users`"));
        assertEquals("send-it-the-guides-events", id("Send it the guide's events"));
        assertEquals("faultinjectionit", id("`FaultInjectionIT`"));
        assertEquals("see-guarantees", id("See [Guarantees](docs/guarantees.md)"));
    }

    record Link(Path document, int line, String path, String anchor) {

        /** The file the link leads to: the document itself for an anchor alone. */
        Path target() {
            return path.isEmpty() ? document : document.getParent().resolve(path).normalize();
        }

        @Override
        public String toString() {
            return ROOT.relativize(document) + ":" + line + " (" + path + (anchor == null ? "" : "#" + anchor) + ")";
        }
    }

    /** The links of a Markdown file that are not URLs (no scheme, not protocol-relative), outside code. */
    static List<Link> links(Path document) throws IOException {
        List<Link> links = new ArrayList<>();
        List<String> lines = Files.readAllLines(document, StandardCharsets.UTF_8);
        boolean inCode = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.stripLeading().startsWith("```") || line.stripLeading().startsWith("~~~")) {
                inCode = !inCode;
                continue;
            }
            if (inCode) {
                continue;
            }
            String text = CODE_SPAN.matcher(line).replaceAll("code");
            List<String> targets = new ArrayList<>();
            Matcher inline = INLINE_LINK.matcher(text);
            while (inline.find()) {
                targets.add(inline.group(1));
            }
            Matcher reference = REFERENCE.matcher(text);
            if (reference.matches()) {
                targets.add(reference.group(1));
            }
            for (String target : targets) {
                if (target.isEmpty() || SCHEME.matcher(target).find() || target.startsWith("//")) {
                    continue;
                }
                int hash = target.indexOf('#');
                String path = URLDecoder.decode(hash < 0 ? target : target.substring(0, hash), StandardCharsets.UTF_8);
                String anchor = hash < 0 ? null : target.substring(hash + 1);
                links.add(new Link(document, i + 1, path, anchor));
            }
        }
        return links;
    }

    /** The ids GitHub gives the headings of a Markdown file (a repeated one gets -1, -2, ...). */
    static Set<String> headingIds(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Set<String> ids = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean inCode = false;
        for (String line : lines) {
            if (line.stripLeading().startsWith("```") || line.stripLeading().startsWith("~~~")) {
                inCode = !inCode;
                continue;
            }
            Matcher heading = HEADING.matcher(line);
            if (inCode || !heading.matches()) {
                continue;
            }
            String id = id(heading.group(1));
            int times = seen.merge(id, 1, Integer::sum);
            ids.add(times == 1 ? id : id + "-" + (times - 1));
        }
        return ids;
    }

    /** GitHub's id of a heading: its text as rendered, lower case, without punctuation, spaces as '-'. */
    static String id(String heading) {
        String text = MARKDOWN_LINK_TEXT.matcher(heading).replaceAll("$1").replace("`", "").replace("*", "");
        return NOT_IN_ID.matcher(text.toLowerCase(Locale.ROOT)).replaceAll("").replace(' ', '-');
    }
}
