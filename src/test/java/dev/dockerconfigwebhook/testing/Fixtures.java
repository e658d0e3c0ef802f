package dev.dockerconfigwebhook.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The AdmissionReviews recorded from a real kube-apiserver (src/test/resources/admission, see its README). */
public final class Fixtures {

    public static final List<String> ALL = List.of(
            "create-client-side-apply-no-auth.json",
            "create-invalid-json.json",
            "create-kubectl-create-docker-registry.json",
            "create-legacy-dockercfg-stale-auth.json",
            "create-multi-registry-mixed.json",
            "create-opaque-secret.json",
            "create-server-dry-run-no-auth.json",
            "create-server-side-apply-no-auth.json",
            "update-client-side-apply-password-changed.json",
            "update-kubectl-edit-password-only.json",
            "update-kubectl-patch-stringdata-stale-auth.json",
            "update-server-side-apply-password-changed.json");

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Fixtures() {
    }

    public static byte[] bytes(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/admission/" + name)) {
            if (in == null) throw new IllegalArgumentException("no fixture " + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode json(String name) {
        try {
            return MAPPER.readTree(bytes(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The fixture's bytes with {@code request.uid} set to {@code uid}, so concurrent answers can be told apart. */
    public static byte[] withUid(String name, String uid) {
        String original = json(name).path("request").path("uid").asText();
        return new String(bytes(name), StandardCharsets.UTF_8)
                .replaceFirst("\"uid\": \"" + original + "\"", "\"uid\": \"" + uid + "\"").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Every credential-bearing value in the fixtures: the base64 data values, every string leaf of the decoded
     * documents (usernames, passwords, auths, emails, tokens) and the annotation values. None may be logged.
     */
    public static Set<String> credentialValues() {
        Set<String> values = new TreeSet<>();
        for (String name : ALL) {
            JsonNode request = json(name).path("request");
            for (JsonNode object : List.of(request.path("object"), request.path("oldObject"))) {
                for (Iterator<Map.Entry<String, JsonNode>> it = object.path("data").fields(); it.hasNext(); ) {
                    String encoded = it.next().getValue().asText();
                    values.add(encoded);
                    String decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
                    try {
                        collectStrings(MAPPER.readTree(decoded), values);
                    } catch (IOException notJson) {
                        values.add(decoded);
                    }
                }
                object.path("metadata").path("annotations").forEach(v -> values.add(v.asText()));
            }
        }
        values.removeIf(v -> v.length() < 4);
        return values;
    }

    private static void collectStrings(JsonNode node, Set<String> into) {
        if (node.isTextual()) {
            into.add(node.asText());
        }
        node.forEach(child -> collectStrings(child, into));
    }
}
