package dev.dockerconfigwebhook;

import dev.dockerconfigwebhook.testing.TestLog;
import dev.dockerconfigwebhook.testing.Fixtures;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs after every other test class and reads the complete log of the Quarkus application they drove
 * (fixtures, bad requests, load, rotation): no credential value from any fixture may appear in it.
 */
@Order(Integer.MAX_VALUE)
class LogHygieneTest {

    private static final Path LOG = Path.of("target/test-logs/webhook.log");

    @Test
    void noCredentialValueIsLogged() throws Exception {
        assertTrue(TestLog.exists(), "the test profile writes " + LOG + "; run the whole suite");
        String log = TestLog.read();
        // The log did capture the reviews, so an empty or unrelated file cannot pass.
        for (String uid : List.of("918653ed-18a3-4698-96d6-afa81f5cb1ff", "6ec1bddb-98c6-4bba-95b0-3ffa7600d9dc")) {
            assertTrue(log.contains("review uid=" + uid), "the log holds the review line of " + uid);
        }
        assertTrue(log.contains("review rejected:"), "the log holds the bad requests");
        Set<String> credentials = Fixtures.credentialValues();
        assertTrue(credentials.contains("rotated-token") && credentials.contains("hunter2"), "credentials were collected");
        for (String credential : credentials) {
            assertFalse(log.contains(credential), () -> "a credential value of the fixtures appears in " + LOG);
        }
    }
}
