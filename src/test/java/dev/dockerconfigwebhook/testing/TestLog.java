package dev.dockerconfigwebhook.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The log the test profile writes (target/test-logs/webhook.log and any file it rotated to). */
public final class TestLog {

    public static final Path DIRECTORY = Path.of("target/test-logs");

    private TestLog() {
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
