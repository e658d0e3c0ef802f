package dev.dockerconfigwebhook.endpoint;

import dev.dockerconfigwebhook.testing.Webhook;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dockerconfigwebhook.testing.Expectation;
import dev.dockerconfigwebhook.testing.Fixtures;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.File;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Posts every AdmissionReview recorded from a real kube-apiserver to {@code /mutate} over HTTPS, applies the
 * returned JSON Patch to {@code request.object} and asserts the Secret that results.
 */
@QuarkusTest
class MutateEndpointTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    URL mutate = Webhook.mutate();

    static Stream<Expectation> fixtures() {
        return Expectation.ALL.stream();
    }

    @Test
    void everyRecordedFixtureHasAnExpectation() {
        assertEquals(Fixtures.ALL, fixtures().map(Expectation::fixture).sorted().toList());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void answersRecordedReview(Expectation expected) throws Exception {
        Response http = https().contentType("application/json").body(Fixtures.bytes(expected.fixture())).post(mutate);
        assertEquals(200, http.statusCode());
        expected.assertAnswer(http.asByteArray());
    }

    @Test
    void sameAnswerOnReplay() {
        byte[] body = Fixtures.bytes("update-kubectl-edit-password-only.json");
        Response first = https().contentType("application/json").body(body).post(mutate);
        Response second = https().contentType("application/json").body(body).post(mutate);
        assertEquals(200, first.statusCode());
        assertEquals(200, second.statusCode());
        assertTrue(first.asString().contains("\"patchType\":\"JSONPatch\""), "the replayed review is a patching one");
        assertEquals(first.asString(), second.asString(), "a pure function of the request: the same answer, byte for byte");
    }

    /** A body that is not an AdmissionReview: 4xx with a one-line JSON error, never a 5xx or a stack trace. */
    record BadRequest(String name, String contentType, byte[] body, int status) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<BadRequest> badRequests() {
        byte[] fixture = Fixtures.bytes("update-kubectl-edit-password-only.json");
        String review = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",";
        List<BadRequest> cases = new ArrayList<>(List.of(
                bad("empty body", ""),
                bad("not JSON", "hello"),
                bad("JSON null", "null"),
                bad("a JSON array", "[1,2]"),
                bad("empty object", "{}"),
                bad("truncated review", new String(fixture, StandardCharsets.UTF_8).substring(0, fixture.length / 2)),
                bad("trailing garbage", new String(fixture, StandardCharsets.UTF_8) + "}"),
                bad("no request", review.replaceAll(",$", "}")),
                bad("v1beta1", "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\"}}"),
                bad("request is a string", review + "\"request\":\"x\"}"),
                bad("no uid", review + "\"request\":{\"operation\":\"CREATE\"}}"),
                bad("uid is a number", review + "\"request\":{\"uid\":5}}"),
                bad("dryRun is a string", review + "\"request\":{\"uid\":\"u\",\"dryRun\":\"yes\"}}"),
                bad("secret data is an array", review + "\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":[1]}}}"),
                bad("nested deeper than Go's 10,000 levels", review + "\"x\":" + "[".repeat(10_000) + "]".repeat(10_000) + ",\"request\":{\"uid\":\"u\"}}"),
                bad("invalid UTF-8", new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'}),
                new BadRequest("over 8 MiB", "application/json", (review + "\"x\":\"" + "a".repeat(8 * 1024 * 1024) + "\"}")
                        .getBytes(StandardCharsets.UTF_8), 413),
                new BadRequest("wrong content type", "text/plain", fixture, 415)));
        return cases.stream();
    }

    private static BadRequest bad(String name, String body) {
        return bad(name, body.getBytes(StandardCharsets.UTF_8));
    }

    private static BadRequest bad(String name, byte[] body) {
        return new BadRequest(name, "application/json", body, 400);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void rejectsBadRequest(BadRequest bad) throws Exception {
        Response http = https().contentType(bad.contentType()).body(bad.body()).post(mutate);
        assertEquals(bad.status(), http.statusCode(), () -> "status; body " + http.asString());
        assertTrue(http.contentType().startsWith("application/json"), http.contentType());
        String body = http.asString();
        assertFalse(body.contains("\n"), "one line");
        JsonNode error = MAPPER.readTree(body);
        assertEquals(1, error.size());
        assertFalse(error.path("error").asText().isBlank());
        assertFalse(body.contains("Exception") || body.contains("\tat "), "no stack trace");
    }

    @Test
    void onlyPostIsServed() {
        assertEquals(405, https().get(mutate).statusCode());
    }

    private RequestSpecification https() {
        return given().trustStore(new File("target/certificates/dev-truststore.p12"), "changeit");
    }

}
