package dev.dockerconfigwebhook.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The log the test profile writes (target/test-logs/webhook.log and any file it rotated to), and the check every test
 * makes of a log or an output it captured: no credential value of the fixtures in it.
 */
public final class TestLog {

    public static final Path DIRECTORY = Path.of("target/test-logs");

    private TestLog() {
    }

    /** Fails when a credential value of the recorded fixtures appears in {@code text}; never quotes the value. */
    public static void assertNoCredential(String text, String where) {
        assertNoneOf(Fixtures.credentialValues(), text, where);
    }

    /** Fails when one of {@code credentials} appears in {@code text}; never quotes the value. */
    public static void assertNoneOf(Collection<String> credentials, String text, String where) {
        long found = credentials.stream().filter(text::contains).count();
        if (found > 0) throw new AssertionError(found + " credential value(s) appear in " + where);
    }

    public static boolean exists() {
        return Files.exists(DIRECTORY.resolve("webhook.log"));
    }

    /** Everything logged so far, rotated files included. */
    public static String read() {
        try (Stream<Path> files = Files.list(DIRECTORY)) {
            return files.filter(f -> f.getFileName().toString().startsWith("webhook.log")).sorted()
                    .map(f -> {
                        try {
                            return Files.readString(f, StandardCharsets.UTF_8);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }).collect(Collectors.joining("\n"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
