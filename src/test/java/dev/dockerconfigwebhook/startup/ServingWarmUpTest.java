package dev.dockerconfigwebhook.startup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dockerconfigwebhook.admission.AdmissionReviewReader;
import dev.dockerconfigwebhook.admission.AdmissionReviewWriter;
import dev.dockerconfigwebhook.admission.Outcome;
import dev.dockerconfigwebhook.admission.SecretMutator;
import dev.dockerconfigwebhook.testing.Base64Text;
import dev.dockerconfigwebhook.testing.JsonPatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServingWarmUpTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @ParameterizedTest(name = "{0} registries, indented {1}")
    @CsvSource({"1, false", "1, true", "4, false", "9, true", ServingWarmUp.LARGE_REGISTRIES + ", false",
            ServingWarmUp.LARGE_REGISTRIES + ", true"})
    void theMadeUpReviewIsReadAndFixedAsARealOneWouldBe(int registries, boolean indented) throws Exception {
        byte[] body = ServingWarmUp.review(registries, indented);
        assertEquals(indented, new String(body, StandardCharsets.UTF_8).contains("\n    \"object\": {"));
        SecretMutator.Decision decision = new SecretMutator(false)
                .decideWithoutLog(AdmissionReviewReader.read(body, body.length));
        assertEquals(Outcome.PATCHED, decision.outcome());
        assertEquals(ServingWarmUp.fixable(registries), decision.fixedRegistries());

        // Apply the answer's patch to the object, as the API server would, and read the resulting secret.
        JsonNode answer = MAPPER.readTree(AdmissionReviewWriter.write(decision.response())).path("response");
        JsonNode patch = MAPPER.readTree(Base64Text.decode(answer.path("patch").asText()));
        JsonNode secret = JsonPatch.apply(patch, MAPPER.readTree(body).path("request").path("object"));
        JsonNode auths = MAPPER.readTree(Base64Text.decode(secret.path("data").path(".dockerconfigjson").asText())).path("auths");
        assertEquals(registries, auths.size());
        int withPassword = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext(); ) {
            JsonNode entry = it.next().getValue();
            String fromAuth = Base64Text.decode(entry.path("auth").asText());
            if (entry.has("password")) {
                withPassword++;
                assertEquals(entry.path("username").asText() + ":" + entry.path("password").asText(), fromAuth,
                        "auth follows username and password (escapes and non-ASCII included)");
            } else {
                assertTrue(fromAuth.matches("u[0-9]+:p[0-9]+"), "an auth alone is left as it was");
            }
        }
        assertEquals(ServingWarmUp.fixable(registries), withPassword);
    }

    @Test
    void runsEveryPartToTheEndWithoutLoggingAReview() {
        List<LogRecord> records = new ArrayList<>();
        Handler capture = new Handler() {
            @Override public void publish(LogRecord record) { records.add(record); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        Logger mutatorLog = Logger.getLogger(SecretMutator.class.getName());
        mutatorLog.addHandler(capture);
        try {
            ServingWarmUp.Result result = ServingWarmUp.run(new SecretMutator(false), System.nanoTime() + 60_000_000_000L);
            assertNull(result.failure());
            assertTrue(result.complete());
            assertEquals(ServingWarmUp.LARGE_REVIEWS * (1 + ServingWarmUp.SMALL_REVIEWS / ServingWarmUp.LARGE_REVIEWS),
                    result.reviewsDecided());
        } finally {
            mutatorLog.removeHandler(capture);
        }
        assertTrue(records.isEmpty(), records.size() + " review lines, the first: "
                + records.stream().map(LogRecord::getMessage).findFirst().orElse(""));

        // The capture itself works: a logged decision is seen.
        mutatorLog.addHandler(capture);
        try {
            byte[] body = ServingWarmUp.review(1, false);
            new SecretMutator(false).mutate(AdmissionReviewReader.read(body, body.length));
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            mutatorLog.removeHandler(capture);
        }
        assertFalse(records.isEmpty(), "mutate() logs its review line");
    }

    @Test
    void indentingKeepsTheJsonAndItsStringsAsTheyWere() throws Exception {
        String compact = "{\"a\":[1,{\"b\":\"x,\\\"{:}\\\\\"},[]],\"c\":{}}";
        String indented = ServingWarmUp.indent(compact).toString();
        assertEquals("{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x,\\\"{:}\\\\\"\n    },\n    [\n      \n    ]\n  ],"
                + "\n  \"c\": {\n    \n  }\n}", indented);
        assertEquals(MAPPER.readTree(compact), MAPPER.readTree(indented));
    }

    @Test
    void stopsAtItsDeadline() {
        ServingWarmUp.Result result = ServingWarmUp.run(new SecretMutator(false), System.nanoTime() - 1);
        assertFalse(result.complete());
        assertNull(result.failure());
        assertEquals(0, result.reviewsDecided());
    }
}
