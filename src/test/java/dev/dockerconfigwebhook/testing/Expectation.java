package dev.dockerconfigwebhook.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.dockerconfigwebhook.testing.Base64Text.b64;
import static dev.dockerconfigwebhook.testing.Base64Text.decode;

/**
 * What the webhook must answer for each recorded fixture: the decoded document with {@code find} replaced by
 * {@code replacement} (null: no patch at all), and exactly these warnings.
 */
public record Expectation(String fixture, String find, String replacement, List<String> warnings) {

    private static final String RECOMPUTED = ": auth recomputed from username/password (written auth did not match)";
    private static final String ADDED = ": auth added from username/password";

    public static final List<Expectation> ALL = List.of(
            new Expectation("create-kubectl-create-docker-registry.json", null, null, List.of()),
            new Expectation("update-kubectl-edit-password-only.json",
                    "\"auth\": \"YWxpY2U6b2xkLXRva2Vu\"", "\"auth\": \"" + b64("alice:rotated-token") + "\"",
                    List.of("ghcr.io" + RECOMPUTED)),
            new Expectation("update-kubectl-patch-stringdata-stale-auth.json",
                    "\"auth\":\"YWxpY2U6b2xkLXRva2Vu\"", "\"auth\":\"" + b64("alice:patched-token") + "\"",
                    List.of("ghcr.io" + RECOMPUTED)),
            new Expectation("create-client-side-apply-no-auth.json",
                    "\"password\": \"glpat-first\"}",
                    "\"password\": \"glpat-first\", \"auth\": \"" + b64("deploy-token-1:glpat-first") + "\"}",
                    List.of("registry.gitlab.com" + ADDED)),
            new Expectation("update-client-side-apply-password-changed.json",
                    "\"password\": \"glpat-second\"}",
                    "\"password\": \"glpat-second\", \"auth\": \"" + b64("deploy-token-1:glpat-second") + "\"}",
                    List.of("registry.gitlab.com" + ADDED)),
            new Expectation("create-server-side-apply-no-auth.json",
                    "\"password\": \"glpat-second\"}",
                    "\"password\": \"glpat-second\", \"auth\": \"" + b64("deploy-token-1:glpat-second") + "\"}",
                    List.of("registry.gitlab.com" + ADDED)),
            new Expectation("update-server-side-apply-password-changed.json",
                    "\"password\": \"glpat-third\"}",
                    "\"password\": \"glpat-third\", \"auth\": \"" + b64("deploy-token-1:glpat-third") + "\"}",
                    List.of("registry.gitlab.com" + ADDED)),
            new Expectation("create-server-dry-run-no-auth.json",
                    "\"password\": \"glpat-second\"}",
                    "\"password\": \"glpat-second\", \"auth\": \"" + b64("deploy-token-1:glpat-second") + "\"}",
                    List.of("registry.gitlab.com" + ADDED)),
            new Expectation("create-legacy-dockercfg-stale-auth.json",
                    "\"auth\": \"Ym9iOm9sZA==\"", "\"auth\": \"" + b64("bob:hunter2") + "\"",
                    List.of("https://index.docker.io/v1/" + RECOMPUTED)),
            new Expectation("create-multi-registry-mixed.json",
                    "\"auth\": \"YWxpY2U6Z2hwX29sZA==\"", "\"auth\": \"" + b64("alice:ghp_new") + "\"",
                    List.of("ghcr.io" + RECOMPUTED,
                            "registry.example.com:5000: username contains ':', which auth cannot express; left unchanged")),
            new Expectation("create-opaque-secret.json", null, null, List.of()),
            new Expectation("create-invalid-json.json", null, null,
                    List.of(".dockerconfigjson is not valid JSON; left unchanged")));

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * Asserts the webhook's answer to this fixture: the AdmissionReview envelope, the uid echo, the warnings, and
     * the Secret that results from applying the returned JSON Patch to {@code request.object}.
     */
    public void assertAnswer(byte[] body) throws IOException {
        JsonNode request = Fixtures.json(fixture).path("request");
        JsonNode answer = MAPPER.readTree(body);
        assertEquals("admission.k8s.io/v1", answer.path("apiVersion").asText());
        assertEquals("AdmissionReview", answer.path("kind").asText());
        assertFalse(answer.has("request"), "the request is not echoed back");
        JsonNode response = answer.path("response");
        assertEquals(request.path("uid").asText(), response.path("uid").asText());
        assertTrue(response.path("allowed").asBoolean());
        List<String> warnings = new ArrayList<>();
        response.path("warnings").forEach(w -> warnings.add(w.asText()));
        assertEquals(this.warnings, warnings);

        JsonNode object = request.path("object");
        if (find == null) {
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
        assertTrue(before.contains(find), "the expectation matches the fixture");
        assertEquals(before.replace(find, replacement), decode(patched.path("data").path(key).asText()),
                "the resulting secret");
        ((ObjectNode) patched.path("data")).remove(key);
        ObjectNode rest = object.deepCopy();
        ((ObjectNode) rest.path("data")).remove(key);
        assertEquals(rest, patched, "nothing but the one data key changes");
    }

    @Override
    public String toString() {
        return fixture;
    }


}
