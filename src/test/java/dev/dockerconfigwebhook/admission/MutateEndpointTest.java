package dev.dockerconfigwebhook.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dockerconfigwebhook.testing.Fixtures;
import dev.dockerconfigwebhook.testing.JsonPatch;
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
import java.util.Base64;
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

    @TestHTTPResource(value = "/mutate", tls = true)
    URL mutate;

    /**
     * What must come out for one fixture: the decoded document with {@code find} replaced by {@code replacement}
     * (null for "no patch"), and the exact warnings.
     */
    record Expectation(String fixture, String find, String replacement, List<String> warnings) {
        @Override
        public String toString() {
            return fixture;
        }
    }

    static Stream<Expectation> fixtures() {
        String recomputed = ": auth recomputed from username/password (written auth did not match)";
        String added = ": auth added from username/password";
        return Stream.of(
                new Expectation("create-kubectl-create-docker-registry.json", null, null, List.of()),
                new Expectation("update-kubectl-edit-password-only.json",
                        "\"auth\": \"YWxpY2U6b2xkLXRva2Vu\"", "\"auth\": \"" + b64("alice:rotated-token") + "\"",
                        List.of("ghcr.io" + recomputed)),
                new Expectation("update-kubectl-patch-stringdata-stale-auth.json",
                        "\"auth\":\"YWxpY2U6b2xkLXRva2Vu\"", "\"auth\":\"" + b64("alice:patched-token") + "\"",
                        List.of("ghcr.io" + recomputed)),
                new Expectation("create-client-side-apply-no-auth.json",
                        "\"password\": \"glpat-first\"}",
                        "\"password\": \"glpat-first\", \"auth\": \"" + b64("deploy-token-1:glpat-first") + "\"}",
                        List.of("registry.gitlab.com" + added)),
                new Expectation("update-client-side-apply-password-changed.json",
                        "\"password\": \"glpat-second\"}",
                        "\"password\": \"glpat-second\", \"auth\": \"" + b64("deploy-token-1:glpat-second") + "\"}",
                        List.of("registry.gitlab.com" + added)),
                new Expectation("create-server-side-apply-no-auth.json",
                        "\"password\": \"glpat-second\"}",
                        "\"password\": \"glpat-second\", \"auth\": \"" + b64("deploy-token-1:glpat-second") + "\"}",
                        List.of("registry.gitlab.com" + added)),
                new Expectation("update-server-side-apply-password-changed.json",
                        "\"password\": \"glpat-third\"}",
                        "\"password\": \"glpat-third\", \"auth\": \"" + b64("deploy-token-1:glpat-third") + "\"}",
                        List.of("registry.gitlab.com" + added)),
                new Expectation("create-server-dry-run-no-auth.json",
                        "\"password\": \"glpat-second\"}",
                        "\"password\": \"glpat-second\", \"auth\": \"" + b64("deploy-token-1:glpat-second") + "\"}",
                        List.of("registry.gitlab.com" + added)),
                new Expectation("create-legacy-dockercfg-stale-auth.json",
                        "\"auth\": \"Ym9iOm9sZA==\"", "\"auth\": \"" + b64("bob:hunter2") + "\"",
                        List.of("https://index.docker.io/v1/" + recomputed)),
                new Expectation("create-multi-registry-mixed.json",
                        "\"auth\": \"YWxpY2U6Z2hwX29sZA==\"", "\"auth\": \"" + b64("alice:ghp_new") + "\"",
                        List.of("ghcr.io" + recomputed,
                                "registry.example.com:5000: username contains ':', which auth cannot express; left unchanged")),
                new Expectation("create-opaque-secret.json", null, null, List.of()),
                new Expectation("create-invalid-json.json", null, null,
                        List.of(".dockerconfigjson is not valid JSON; left unchanged")));
    }

    @Test
    void everyRecordedFixtureHasAnExpectation() {
        assertEquals(Fixtures.ALL, fixtures().map(Expectation::fixture).sorted().toList());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void answersRecordedReview(Expectation expected) throws Exception {
        JsonNode review = Fixtures.json(expected.fixture());
        JsonNode request = review.path("request");
        Response http = https().contentType("application/json").body(Fixtures.bytes(expected.fixture())).post(mutate);
        assertEquals(200, http.statusCode());
        JsonNode answer = MAPPER.readTree(http.asByteArray());

        assertEquals("admission.k8s.io/v1", answer.path("apiVersion").asText());
        assertEquals("AdmissionReview", answer.path("kind").asText());
        assertFalse(answer.has("request"), "the request is not echoed back");
        JsonNode response = answer.path("response");
        assertEquals(request.path("uid").asText(), response.path("uid").asText());
        assertTrue(response.path("allowed").asBoolean());
        assertEquals(expected.warnings(), warnings(response));

        JsonNode object = request.path("object");
        if (expected.find() == null) {
            assertFalse(response.has("patch"), "no change, no patch");
            assertFalse(response.has("patchType"), "no change, no patchType");
            return;
        }
        assertEquals("JSONPatch", response.path("patchType").asText());
        JsonNode patch = MAPPER.readTree(Base64.getDecoder().decode(response.path("patch").asText()));
        assertEquals(1, patch.size(), "a single operation");
        JsonNode patched = JsonPatch.apply(patch, object);

        String key = object.path("type").asText().equals("kubernetes.io/dockercfg") ? ".dockercfg" : ".dockerconfigjson";
        String before = decode(object.path("data").path(key).asText());
        assertTrue(before.contains(expected.find()), "the expectation matches the fixture");
        assertEquals(before.replace(expected.find(), expected.replacement()),
                decode(patched.path("data").path(key).asText()), "the resulting secret");
        ((ObjectNode) patched.path("data")).remove(key);
        ObjectNode rest = object.deepCopy();
        ((ObjectNode) rest.path("data")).remove(key);
        assertEquals(rest, patched, "nothing but the one data key changes");
    }

    @Test
    void sameAnswerOnReplay() {
        byte[] body = Fixtures.bytes("update-kubectl-edit-password-only.json");
        String first = https().contentType("application/json").body(body).post(mutate).asString();
        String second = https().contentType("application/json").body(body).post(mutate).asString();
        assertEquals(first, second);
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
                bad("deeply nested", review + "\"x\":" + "[".repeat(5000) + "]".repeat(5000) + ",\"request\":{\"uid\":\"u\"}}"),
                bad("invalid UTF-8", new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'}),
                bad("over 8 MiB", review + "\"x\":\"" + "a".repeat(8 * 1024 * 1024) + "\"}"),
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

    private static List<String> warnings(JsonNode response) {
        List<String> warnings = new ArrayList<>();
        response.path("warnings").forEach(w -> warnings.add(w.asText()));
        return warnings;
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String decode(String b64) {
        return new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
    }
}
