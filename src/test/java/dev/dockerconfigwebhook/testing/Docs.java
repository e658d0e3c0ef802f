package dev.dockerconfigwebhook.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the documentation quotes in backticks (log lines, readiness reasons), so that a test that produces the real
 * text can hold the quote to it. A quote may wrap over lines; "…" stands for what varies.
 */
public final class Docs {

    private static final Pattern QUOTE = Pattern.compile("`([^`]+)`");

    private Docs() {
    }

    public static List<String> quotes(String document) {
        try {
            List<String> quotes = new ArrayList<>();
            // Fenced blocks first: their ``` would pair with the backticks of the prose around them.
            Matcher quote = QUOTE.matcher(Files.readString(Path.of(document)).replaceAll("(?s)```.*?```", ""));
            while (quote.find()) quotes.add(quote.group(1).replaceAll("\\s+", " ").trim());
            return quotes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The one quote of {@code document} that {@code which} selects; fails when there is none. */
    public static String quote(String document, Predicate<String> which) {
        return quotes(document).stream().filter(which).findFirst()
                .orElseThrow(() -> new AssertionError(document + " quotes no such text"));
    }

    /** The quote's fixed parts: the text between its "…" placeholders, trimmed, empty ones left out. */
    public static List<String> fixedParts(String quote) {
        List<String> parts = new ArrayList<>();
        for (String part : quote.split("…")) {
            if (!part.isBlank()) parts.add(part.trim());
        }
        return parts;
    }

    /** The {@code key=} names of a log line, in order. */
    public static List<String> keys(String line) {
        List<String> keys = new ArrayList<>();
        Matcher key = Pattern.compile("(?:^| )([A-Za-z]+)=").matcher(line);
        while (key.find()) keys.add(key.group(1));
        return keys;
    }
}
