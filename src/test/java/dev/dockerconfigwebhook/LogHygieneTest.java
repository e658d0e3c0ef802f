package dev.dockerconfigwebhook;

import dev.dockerconfigwebhook.testing.Docs;
import dev.dockerconfigwebhook.testing.Fixtures;
import dev.dockerconfigwebhook.testing.TestLog;
import dev.dockerconfigwebhook.testing.Webhook;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sends every recorded review (and bad requests quoting them) through the webhook itself, then reads the whole test
 * log: no credential value of any fixture may appear in it, whatever other classes ran before. Run alone or last, it
 * checks at least its own traffic; after the suite, everyone's.
 */
@QuarkusTest
class LogHygieneTest {

    @Test
    void noCredentialValueIsLogged() {
        String marker = "log-hygiene-" + UUID.randomUUID();
        for (String fixture : Fixtures.ALL) {
            given().trustStore(new File("target/certificates/dev-truststore.p12"), "changeit")
                    .contentType("application/json").body(Fixtures.withUid(fixture, marker)).post(Webhook.mutate())
                    .then().statusCode(200);
            // The same review cut short: a bad request whose body holds every credential.
            byte[] review = Fixtures.bytes(fixture);
            byte[] truncated = java.util.Arrays.copyOf(review, review.length - 2);
            given().trustStore(new File("target/certificates/dev-truststore.p12"), "changeit")
                    .contentType("application/json").body(truncated).post(Webhook.mutate()).then().statusCode(400);
        }
        assertTrue(TestLog.exists(), "the test profile writes the log to " + TestLog.DIRECTORY);
        String log = TestLog.read();
        // The log did capture this traffic, so an empty or unrelated file cannot pass.
        assertTrue(log.contains("review uid=" + marker), "the log holds the review lines of " + marker);
        assertTrue(log.contains("review rejected:"), "the log holds the bad requests");
        Set<String> credentials = Fixtures.credentialValues();
        assertTrue(credentials.contains("rotated-token") && credentials.contains("hunter2"), "credentials were collected");
        TestLog.assertNoneOf(credentials, log, "the test log");

        // The review line the documentation quotes has the keys of a real one, in the same order.
        String logged = log.lines().filter(l -> l.contains("review uid=" + marker) && l.contains("outcome=patched"))
                .findFirst().orElseThrow();
        logged = logged.substring(logged.indexOf("review uid="));
        for (String document : List.of("README.md", "docs/behaviour.md", "docs/operations.md")) {
            String quoted = Docs.quote(document, q -> q.startsWith("review uid=") && q.contains("outcome=patched"));
            List<String> keys = Docs.keys(logged);
            List<String> quotedKeys = Docs.keys(quoted);
            if (quoted.contains(" operation=")) {
                assertEquals(keys, quotedKeys, document + " quotes `" + quoted + "`; logged: " + logged);
            } else { // an abbreviated quote ("review uid=… outcome=…"): its keys in the logged order
                assertEquals(quotedKeys, keys.stream().filter(quotedKeys::contains).toList(), document + ": " + quoted);
            }
        }
    }
}
