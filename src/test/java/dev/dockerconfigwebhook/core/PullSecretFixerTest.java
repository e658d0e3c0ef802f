package dev.dockerconfigwebhook.core;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.dockerconfigwebhook.core.Fixed.Outcome.DENIED;
import static dev.dockerconfigwebhook.core.Fixed.Outcome.PATCHED;
import static dev.dockerconfigwebhook.core.Fixed.Outcome.UNCHANGED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.dockerconfigwebhook.testing.Base64Text.b64;
import static dev.dockerconfigwebhook.testing.Base64Text.decode;

/**
 * The rules as a table: each case gives a Secret's type and decoded document, and the exact document
 * (byte for byte), outcome and warnings that must come out. Every case is also checked for idempotence
 * and for warnings that are short and free of credential values.
 */
class PullSecretFixerTest {

    private static final String JSON = "kubernetes.io/dockerconfigjson";
    private static final String CFG = "kubernetes.io/dockercfg";

    /** base64("alice:new-token"), base64("alice:old-token"). */
    private static final String ALICE_NEW = b64("alice:new-token");
    private static final String ALICE_OLD = b64("alice:old-token");

    /** Every credential value used below; none may appear in a warning or denial. */
    private static final List<String> CREDENTIALS = List.of("alice", "new-token", "old-token", ALICE_NEW, ALICE_OLD,
            "alice@example.com", "bob", "hunter2", "s3cret", "robot", "jos\u00e9", "idtoken-abc", "regtoken-xyz",
            "user:with:colon", "p4ss", "WUxp", "not-base64!!");

    record Case(String name, String type, String input, boolean strict, Fixed.Outcome outcome, String expected,
            List<String> warnings) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Case patched(String name, String type, String input, String expected, String... warnings) {
        return new Case(name, type, input, false, PATCHED, expected, List.of(warnings));
    }

    private static Case unchanged(String name, String type, String input, String... warnings) {
        return new Case(name, type, input, false, UNCHANGED, null, List.of(warnings));
    }

    private static Case denied(String name, String input, String... warnings) {
        return new Case(name, JSON, input, true, DENIED, null, List.of(warnings));
    }

    static Stream<Case> cases() {
        String recomputed = ": auth recomputed from username/password (written auth did not match)";
        String added = ": auth added from username/password";
        return Stream.of(
                // --- rule a: auth follows username and password
                unchanged("consistent auth is left alone", JSON,
                        "{\"auths\":{\"ghcr.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"}}}"),
                patched("stale auth after a password-only edit is recomputed", JSON,
                        "{\"auths\": {\"ghcr.io\": {\"username\": \"alice\", \"password\": \"new-token\", \"email\": \"alice@example.com\", \"auth\": \"" + ALICE_OLD + "\"}}}",
                        "{\"auths\": {\"ghcr.io\": {\"username\": \"alice\", \"password\": \"new-token\", \"email\": \"alice@example.com\", \"auth\": \"" + ALICE_NEW + "\"}}}",
                        "ghcr.io" + recomputed),
                patched("auth changed alone: username/password win", JSON,
                        "{\"auths\":{\"ghcr.io\":{\"username\":\"alice\",\"password\":\"old-token\",\"auth\":\"" + ALICE_NEW + "\"}}}",
                        "{\"auths\":{\"ghcr.io\":{\"username\":\"alice\",\"password\":\"old-token\",\"auth\":\"" + ALICE_OLD + "\"}}}",
                        "ghcr.io" + recomputed),
                patched("missing auth is inserted, compact style", JSON,
                        "{\"auths\":{\"ghcr.io\":{\"username\":\"alice\",\"password\":\"new-token\"}}}",
                        "{\"auths\":{\"ghcr.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"}}}",
                        "ghcr.io" + added),
                patched("missing auth is inserted, pretty-printed style", JSON,
                        "{\n  \"auths\": {\n    \"ghcr.io\": {\n      \"username\": \"alice\",\n      \"password\": \"new-token\"\n    }\n  }\n}\n",
                        "{\n  \"auths\": {\n    \"ghcr.io\": {\n      \"username\": \"alice\",\n      \"password\": \"new-token\",\n      \"auth\": \"" + ALICE_NEW + "\"\n    }\n  }\n}\n",
                        "ghcr.io" + added),
                patched("missing auth is inserted, tab-indented with spaced colons", JSON,
                        "{\"auths\" : {\"ghcr.io\" : {\n\t\"username\" : \"alice\",\n\t\"password\" : \"new-token\"}}}",
                        "{\"auths\" : {\"ghcr.io\" : {\n\t\"username\" : \"alice\",\n\t\"password\" : \"new-token\",\n\t\"auth\" : \"" + ALICE_NEW + "\"}}}",
                        "ghcr.io" + added),
                unchanged("unpadded auth of the right pair is not churned", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"bob\",\"password\":\"s3cret\",\"auth\":\"" + b64("bob:s3cret").replace("=", "") + "\"}}}"),
                unchanged("auth with line breaks (Go skips them) of the right pair is not churned", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW.substring(0, 8) + "\\n" + ALICE_NEW.substring(8) + "\"}}}"),
                unchanged("escaped auth of the right pair is not churned", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"\\u0059" + ALICE_NEW.substring(1) + "\"}}}"),
                patched("empty auth is set", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"\"}}}",
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"}}}",
                        "r.io" + recomputed),
                patched("empty password is a valid pair", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"\"}}}",
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"\",\"auth\":\"" + b64("alice:") + "\"}}}",
                        "r.io" + added),
                patched("a password containing ':' is fine (split at the first ':')", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"bob\",\"password\":\"a:b:c\"}}}",
                        "{\"auths\":{\"r.io\":{\"username\":\"bob\",\"password\":\"a:b:c\",\"auth\":\"" + b64("bob:a:b:c") + "\"}}}",
                        "r.io" + added),
                patched("UTF-8 written raw is encoded as UTF-8", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"jos\u00e9\",\"password\":\"p\u00e4ss\u2603\"}}}",
                        "{\"auths\":{\"r.io\":{\"username\":\"jos\u00e9\",\"password\":\"p\u00e4ss\u2603\",\"auth\":\"" + b64("jos\u00e9:p\u00e4ss\u2603") + "\"}}}",
                        "r.io" + added),
                patched("UTF-8 written as escapes (with a surrogate pair) gives the same auth; escapes stay", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"jos\\u00e9\",\"password\":\"\\ud83d\\ude00\\\"\"}}}",
                        "{\"auths\":{\"r.io\":{\"username\":\"jos\\u00e9\",\"password\":\"\\ud83d\\ude00\\\"\",\"auth\":\"" + b64("jos\u00e9:\ud83d\ude00\"") + "\"}}}",
                        "r.io" + added),
                patched("field names match case-insensitively, as in Go", JSON,
                        "{\"Auths\":{\"r.io\":{\"Username\":\"alice\",\"PASSWORD\":\"new-token\",\"Auth\":\"" + ALICE_OLD + "\"}}}",
                        "{\"Auths\":{\"r.io\":{\"Username\":\"alice\",\"PASSWORD\":\"new-token\",\"Auth\":\"" + ALICE_NEW + "\"}}}",
                        "r.io" + recomputed),
                patched("non-ASCII field names fold like Go's (long s matches s)", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"pa\u017f\u017fword\":\"new-token\"}}}",
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"pa\u017f\u017fword\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"}}}",
                        "r.io" + added),
                patched("duplicate fields: the last one counts and only it is rewritten", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"x\",\"auth\":\"old\",\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_OLD + "\"}}}",
                        "{\"auths\":{\"r.io\":{\"username\":\"x\",\"auth\":\"old\",\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"}}}",
                        "r.io" + recomputed),
                unchanged("null password counts as absent", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":null}}}"),
                patched("null auth counts as absent: a real one is added after it", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":null}}}",
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":null,\"auth\":\"" + ALICE_NEW + "\"}}}",
                        "r.io" + added),
                patched("several registries: only the inconsistent ones change", JSON,
                        "{\"auths\":{\"a.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"},"
                                + "\"b.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_OLD + "\"},"
                                + "\"c.io\":{\"username\":\"bob\",\"password\":\"hunter2\"}}}",
                        "{\"auths\":{\"a.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"},"
                                + "\"b.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"},"
                                + "\"c.io\":{\"username\":\"bob\",\"password\":\"hunter2\",\"auth\":\"" + b64("bob:hunter2") + "\"}}}",
                        "b.io" + recomputed, "c.io" + added),
                patched("formatting, numbers, escapes, duplicates and unknown members stay byte for byte", JSON,
                        "{ \"auths\" :{\"r.io\":{\"username\":\"alice\" , \"password\":\"new-token\",\"auth\":\"" + ALICE_OLD + "\" ,\"x\":[1,2.50,-0e+3,{\"k\":true}],\"email\":\"\\u00e9\\/\"}},\"auths\":{}, \"HttpHeaders\":{\"User-Agent\":\"a\\tb\"},\"credsStore\":\"desktop\",\"n\":1.0E-7 }",
                        "{ \"auths\" :{\"r.io\":{\"username\":\"alice\" , \"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\" ,\"x\":[1,2.50,-0e+3,{\"k\":true}],\"email\":\"\\u00e9\\/\"}},\"auths\":{}, \"HttpHeaders\":{\"User-Agent\":\"a\\tb\"},\"credsStore\":\"desktop\",\"n\":1.0E-7 }",
                        "r.io" + recomputed),
                patched("registry keys with credentials in them are not shown", JSON,
                        "{\"auths\":{\"https://bob:hunter2@r.io\":{\"username\":\"alice\",\"password\":\"new-token\"}}}",
                        "{\"auths\":{\"https://bob:hunter2@r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"}}}",
                        "\u2026@r.io" + added),

                // --- rule b: credentials no auth can express
                unchanged("username with ':' is left alone with a warning", JSON,
                        "{\"auths\":{\"r.io:5000\":{\"username\":\"user:with:colon\",\"password\":\"p4ss\"}}}",
                        "r.io:5000: username contains ':', which auth cannot express; left unchanged"),
                unchanged("empty username is left alone with a warning", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"\",\"password\":\"p4ss\",\"auth\":\"" + ALICE_OLD + "\"}}}",
                        "r.io: username is empty, so no auth can be derived; left unchanged"),
                denied("strict mode denies a username with ':' and names the registry",
                        "{\"auths\":{\"ghcr.io\":{\"username\":\"alice\",\"password\":\"new-token\"},\"r.io:5000\":{\"username\":\"user:with:colon\",\"password\":\"p4ss\"}}}",
                        "ghcr.io" + added, "r.io:5000: username contains ':', which auth cannot express; left unchanged"),
                denied("strict mode denies an empty username",
                        "{\"auths\":{\"r.io\":{\"username\":\"\",\"password\":\"p4ss\"}}}",
                        "r.io: username is empty, so no auth can be derived; left unchanged"),
                new Case("strict mode still patches what it can fix", JSON,
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\"}}}", true, PATCHED,
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"}}}",
                        List.of("r.io" + added)),

                // --- rule c: entries without both username and password
                unchanged("auth-only entry is left alone", JSON,
                        "{\"auths\":{\"quay.io\":{\"auth\":\"" + b64("robot:s3cret") + "\"}}}"),
                unchanged("auth-only entry the kubelet cannot parse gets a warning (no ':')", JSON,
                        "{\"auths\":{\"quay.io\":{\"auth\":\"" + b64("robot") + "\"}}}",
                        "quay.io: auth is not base64 of user:password; pulls with it will fail"),
                unchanged("auth-only entry that is not base64 gets a warning", JSON,
                        "{\"auths\":{\"quay.io\":{\"auth\":\"not-base64!!\"}}}",
                        "quay.io: auth is not base64 of user:password; pulls with it will fail"),
                unchanged("identitytoken, registrytoken and empty entries are left alone", JSON,
                        "{\"auths\":{\"a.io\":{\"identitytoken\":\"idtoken-abc\"},\"b.io\":{\"registrytoken\":\"regtoken-xyz\"},\"c.io\":{},\"d.io\":{\"username\":\"alice\"},\"e.io\":null}}"),

                // --- rule d: other document members
                patched("credHelpers and credsStore stay while auths is fixed", JSON,
                        "{\"credHelpers\":{\"gcr.io\":\"gcloud\"},\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\"}},\"credsStore\":\"osxkeychain\"}",
                        "{\"credHelpers\":{\"gcr.io\":\"gcloud\"},\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"}},\"credsStore\":\"osxkeychain\"}",
                        "r.io" + added),
                unchanged("a config without auths is fine", JSON, "{\"credsStore\":\"desktop\"}"),

                // --- scope
                patched("legacy dockercfg: entries at the top level", CFG,
                        "{\"https://index.docker.io/v1/\": {\"username\": \"bob\", \"password\": \"hunter2\", \"email\": \"bob@example.com\", \"auth\": \"" + b64("bob:old") + "\"}}",
                        "{\"https://index.docker.io/v1/\": {\"username\": \"bob\", \"password\": \"hunter2\", \"email\": \"bob@example.com\", \"auth\": \"" + b64("bob:hunter2") + "\"}}",
                        "https://index.docker.io/v1/" + recomputed),
                unchanged("a dockercfg document is not read as dockerconfigjson", CFG,
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\"}}}"),
                unchanged("an Opaque secret with a .dockerconfigjson key is not ours", "Opaque",
                        "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\"}}}"),

                // --- bad input: never lost, never a crash
                unchanged("not JSON", JSON, "{not json", ".dockerconfigjson is not valid JSON; left unchanged"),
                unchanged("empty document", JSON, "", ".dockerconfigjson is not valid JSON; left unchanged"),
                unchanged("byte order mark", JSON, "\ufeff{}", ".dockerconfigjson is not valid JSON; left unchanged"),
                unchanged("trailing garbage", JSON, "{} {}", ".dockerconfigjson is not valid JSON; left unchanged"),
                unchanged("truncated", JSON, "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-",
                        ".dockerconfigjson is not valid JSON; left unchanged"),
                unchanged("top level is an array", JSON, "[]", ".dockerconfigjson is not a JSON object; left unchanged"),
                unchanged("auths is a string", JSON, "{\"auths\":\"r.io\"}",
                        ".dockerconfigjson: \"auths\" is not a JSON object; left unchanged"),
                unchanged("an entry is a string", JSON, "{\"auths\":{\"r.io\":\"s3cret\"}}",
                        "r.io: entry is not a JSON object; left unchanged"),
                unchanged("username is a number", JSON, "{\"auths\":{\"r.io\":{\"username\":42,\"password\":\"p4ss\"}}}",
                        "r.io: username is not a string; left unchanged"),
                unchanged("password is an object", JSON, "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":{}}}}",
                        "r.io: password is not a string; left unchanged"),
                unchanged("auth is a boolean", JSON, "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"p4ss\",\"auth\":true}}}",
                        "r.io: auth is not a string; left unchanged"),
                unchanged("email is an array", JSON, "{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"p4ss\",\"email\":[]}}}",
                        "r.io: email is not a string; left unchanged"),
                patched("a deep unknown member (511 levels) does not hide a stale entry after it", JSON,
                        "{\"x\":" + "[".repeat(510) + "]".repeat(510) + ",\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\"}}}",
                        "{\"x\":" + "[".repeat(510) + "]".repeat(510) + ",\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"}}}",
                        "r.io" + added),
                patched("a deep unknown member (512 levels (a limit of earlier versions)) does not hide a stale entry after it", JSON,
                        "{\"x\":" + "[".repeat(511) + "]".repeat(511) + ",\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\"}}}",
                        "{\"x\":" + "[".repeat(511) + "]".repeat(511) + ",\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"}}}",
                        "r.io" + added),
                patched("a deep unknown member (10,000 levels, Go's limit) does not hide a stale entry after it", JSON,
                        "{\"x\":" + "[".repeat(9999) + "]".repeat(9999) + ",\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\"}}}",
                        "{\"x\":" + "[".repeat(9999) + "]".repeat(9999) + ",\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new-token\",\"auth\":\"" + ALICE_NEW + "\"}}}",
                        "r.io" + added),
                unchanged("nesting as deep as Go's decoder allows (10,000)", JSON,
                        "{\"x\":" + "[".repeat(9_999) + "]".repeat(9_999) + "}"),
                unchanged("nesting deeper than Go's decoder allows (10,001)", JSON,
                        "{\"x\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}",
                        ".dockerconfigjson is not valid JSON; left unchanged"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void appliesTheRules(Case c) {
        Map<String, String> data = dataFor(c.type(), c.input());
        data.put("unrelated", b64("kept"));
        Fixed result = Fixed.fix(c.strict(), c.type(), data);

        assertEquals(c.outcome(), result.outcome(), c.name() + ": outcome");
        assertEquals(c.warnings(), result.warnings(), "warnings");
        String key = keyFor(c.type());
        if (c.outcome() == PATCHED) {
            assertEquals(c.expected(), decode(result.data().get(key)), "resulting document");
            assertEquals(result.patchedValue(), result.data().get(key));
        } else {
            assertEquals(data, result.data(), "data is untouched");
            assertNull(result.patchedValue());
        }
        assertEquals(b64("kept"), result.data().get("unrelated"), "other keys are untouched");
        if (c.outcome() == DENIED) {
            assertNotNull(result.denialMessage());
            assertCredentialFree(result.denialMessage());
        }
        for (String warning : result.warnings()) {
            assertTrue(warning.length() < 120, "under 120 characters: " + warning);
            assertCredentialFree(warning);
        }
        Fixed again = Fixed.fix(c.strict(), c.type(), result.data());
        assertEquals(c.outcome() == DENIED ? DENIED : UNCHANGED, again.outcome(), "idempotent");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("missingData")
    void missingDocumentIsReported(String name, Map<String, String> data) {
        Fixed result = Fixed.fix(false, JSON, data);
        assertEquals(UNCHANGED, result.outcome());
        assertEquals(List.of(".dockerconfigjson is missing from data; nothing to check"), result.warnings());
    }

    static Stream<org.junit.jupiter.params.provider.Arguments> missingData() {
        Map<String, String> other = new HashMap<>();
        other.put("x", b64("y"));
        return Stream.of(org.junit.jupiter.params.provider.Arguments.of("null data", null),
                org.junit.jupiter.params.provider.Arguments.of("no key", other));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("notBase64")
    void undecodableDataIsReported(String name, String value) {
        Fixed result = Fixed.fix(false, JSON, Map.of(".dockerconfigjson", value));
        assertEquals(UNCHANGED, result.outcome());
        assertEquals(List.of(".dockerconfigjson is not valid base64; left unchanged"), result.warnings());
    }

    static Stream<org.junit.jupiter.params.provider.Arguments> notBase64() {
        return Stream.of(org.junit.jupiter.params.provider.Arguments.of("punctuation", "not-base64!!"),
                org.junit.jupiter.params.provider.Arguments.of("bad padding", "eyJ9="));
    }

    @org.junit.jupiter.api.Test
    void manyFindingsAreSummarized() {
        StringBuilder doc = new StringBuilder("{\"auths\":{");
        for (int i = 0; i < 25; i++) {
            doc.append(i == 0 ? "" : ",").append("\"r").append(i).append(".io\":{\"username\":\"alice\",\"password\":\"new-token\"}");
        }
        Fixed result = Fixed.fix(false, JSON, dataFor(JSON, doc.append("}}").toString()));
        assertEquals(PATCHED, result.outcome());
        assertEquals(25, result.fixedCount());
        assertEquals(List.of("r0.io", "r1.io"), result.fixedRegistries(2));
        assertEquals(Findings.MAX_WARNINGS, result.warnings().size());
        assertEquals("... and 16 more findings (25 registries fixed in total)", result.warnings().get(9));
        assertFalse(decode(result.patchedValue()).contains("\"password\":\"new-token\"}"), "every entry got its auth");
    }

    private static void assertCredentialFree(String text) {
        for (String credential : CREDENTIALS) {
            assertFalse(text.contains(credential), () -> "'" + text + "' must not contain a credential value");
        }
    }

    private static Map<String, String> dataFor(String type, String document) {
        Map<String, String> data = new HashMap<>();
        byte[] bytes = document.getBytes(StandardCharsets.UTF_8);
        data.put(keyFor(type), Base64.getEncoder().encodeToString(bytes));
        return data;
    }

    private static String keyFor(String type) {
        return CFG.equals(type) ? ".dockercfg" : ".dockerconfigjson";
    }


}
