package dev.dockerconfigwebhook.core;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.dockerconfigwebhook.testing.Base64Text.b64;
import static dev.dockerconfigwebhook.testing.Base64Text.decode;

/**
 * Properties over generated inputs, checked against Jackson as an independent JSON parser:
 * <ul>
 *   <li>random well-formed configs (random registries, formatting, escapes, unknown members): the result is valid
 *       JSON, equal to the input except for {@code auth} values, every fixable entry's auth is base64 of its pair,
 *       only {@code auth} bytes differ, and a second pass changes nothing;</li>
 *   <li>random corruptions of those documents: never an exception, and a document is changed only if Jackson
 *       also parses it (unless it holds invalid UTF-8 in a string, which Go accepts and Jackson does not).</li>
 * </ul>
 * Seeds are fixed, so a failure names the seed that reproduces it.
 */
class PullSecretFixerPropertyTest {

    private static final ObjectMapper JACKSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    /** Go's decoder, as far as Jackson can be: duplicates allowed, nesting up to Go's 10,000 levels. */
    private static final ObjectMapper LENIENT_DUPLICATES = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder().maxNestingDepth(10_000).build())
            .build());
    private static final String TYPE = "kubernetes.io/dockerconfigjson";

    static LongStream seeds() {
        return LongStream.range(0, 300);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void wellFormedConfigsAreFixedExactlyWhereNeeded(long seed) throws Exception {
        Random random = new Random(seed);
        String document = new ConfigGenerator(random).document();
        Fixed result = Fixed.fix(false, TYPE, Map.of(".dockerconfigjson", b64(document)));

        String out = result.outcome() == Fixed.Outcome.PATCHED ? decode(result.patchedValue()) : document;
        JsonNode before = JACKSON.readTree(document);
        JsonNode after = JACKSON.readTree(out);
        JsonNode auths = after.path("auths");
        for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> registry = it.next();
            JsonNode entry = registry.getValue();
            if (entry.path("username").isTextual() && entry.path("password").isTextual()) {
                String user = entry.path("username").asText();
                String pass = entry.path("password").asText();
                if (!user.isEmpty() && !user.contains(":")) {
                    byte[] decoded = Base64.getMimeDecoder().decode(entry.path("auth").asText());
                    assertEquals(user + ":" + pass, new String(decoded, StandardCharsets.UTF_8),
                            "seed " + seed + ": auth of " + registry.getKey());
                }
            }
            ((ObjectNode) entry).remove("auth");
            ((ObjectNode) before.path("auths").path(registry.getKey())).remove("auth");
        }
        assertEquals(before, after, "seed " + seed + ": nothing but auth changes");
        assertOnlyAuthBytesDiffer(document, out, seed);

        Fixed again = Fixed.fix(false, TYPE, result.data());
        assertEquals(Fixed.Outcome.UNCHANGED, again.outcome(), "seed " + seed + ": idempotent");
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void corruptedDocumentsNeverCrashAndAreChangedOnlyWhenValid(long seed) throws Exception {
        Random random = new Random(seed);
        byte[] document = new ConfigGenerator(random).document().getBytes(StandardCharsets.UTF_8);
        byte[] corrupted = corrupt(document, random);
        Fixed result = Fixed.fix(random.nextBoolean(), TYPE,
                Map.of(".dockerconfigjson", Base64.getEncoder().encodeToString(corrupted)));

        if (result.outcome() == Fixed.Outcome.PATCHED) {
            // We changed it, so it must have been JSON as Go reads it (duplicates allowed), and must still be.
            // Go also accepts invalid UTF-8 inside strings, which Jackson rejects: the one divergence allowed.
            if (validUtf8(corrupted)) {
                LENIENT_DUPLICATES.readTree(corrupted);
                LENIENT_DUPLICATES.readTree(Base64.getDecoder().decode(result.patchedValue()));
            }
        }
        for (String warning : result.warnings()) {
            assertTrue(warning.length() < 120, warning);
        }
    }

    private static boolean validUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }

    /** Outside the auth strings (and one inserted member) the two documents are the same bytes. */
    private static void assertOnlyAuthBytesDiffer(String in, String out, long seed) {
        assertEquals(withoutAuth(in), withoutAuth(out), "seed " + seed + ": formatting outside auth is preserved");
    }

    /** Empties every auth value, then drops an auth member that closes its object (where one gets inserted). */
    private static String withoutAuth(String document) {
        return document.replaceAll("\"auth\"\\s*:\\s*\"[^\"]*\"", "\"auth\":\"\"")
                .replaceAll(",\\s*\"auth\":\"\"(\\s*)}", "$1}");
    }

    private static byte[] corrupt(byte[] document, Random random) {
        byte[] out = document.clone();
        switch (random.nextInt(5)) {
            case 0: // truncate
                return java.util.Arrays.copyOf(out, random.nextInt(out.length + 1));
            case 1: // flip bytes
                for (int i = 0; i < 1 + random.nextInt(4); i++) {
                    out[random.nextInt(out.length)] = (byte) random.nextInt(256);
                }
                return out;
            case 2: { // a string where an object was, or the other way round
                String s = new String(out, StandardCharsets.UTF_8);
                return (random.nextBoolean() ? s.replaceFirst("\\{\"username\"", "[\"username\"")
                        : s.replaceFirst("\"password\"\\s*:\\s*\"", "\"password\": 12, \"x\":\"")).getBytes(StandardCharsets.UTF_8);
            }
            case 3: { // deep nesting in an unknown member
                int depth = 1 + random.nextInt(2000);
                String s = new String(out, StandardCharsets.UTF_8);
                return s.replaceFirst("\\{", "{\"deep\":" + "[".repeat(depth) + "]".repeat(depth) + ",")
                        .getBytes(StandardCharsets.UTF_8);
            }
            default: { // repeat a random slice right after itself
                int from = random.nextInt(out.length);
                int to = Math.min(out.length, from + random.nextInt(40));
                byte[] grown = new byte[out.length + (to - from)];
                System.arraycopy(out, 0, grown, 0, to);
                System.arraycopy(out, from, grown, to, to - from);
                System.arraycopy(out, to, grown, to + (to - from), out.length - to);
                return grown;
            }
        }
    }

    /** Random but well-formed Docker configs in many writing styles. */
    static final class ConfigGenerator {
        private final Random random;
        private final String indent;
        private final String colon;

        ConfigGenerator(Random random) {
            this.random = random;
            this.indent = new String[] {"", " ", "  ", "\t", "    "}[random.nextInt(5)];
            this.colon = new String[] {":", ": ", " : ", ":\t"}[random.nextInt(4)];
        }

        String document() {
            StringBuilder doc = new StringBuilder("{").append(nl(1)).append("\"auths\"").append(colon).append("{");
            int registries = random.nextInt(6);
            for (int i = 0; i < registries; i++) {
                doc.append(i == 0 ? "" : ",").append(nl(2)).append(quote("r" + i + "." + word() + ".io")).append(colon)
                        .append(entry());
            }
            doc.append(nl(1)).append("}");
            if (random.nextBoolean()) {
                doc.append(",").append(nl(1)).append("\"credHelpers\"").append(colon).append("{\"gcr.io\"").append(colon)
                        .append("\"gcloud\"}");
            }
            if (random.nextBoolean()) {
                doc.append(",").append(nl(1)).append("\"n\"").append(colon).append(new String[] {"2.50", "-0", "1e10", "3"}[random.nextInt(4)]);
            }
            return doc.append(nl(0)).append("}").append(random.nextBoolean() ? "\n" : "").toString();
        }

        private String entry() {
            String user = random.nextInt(10) == 0 ? "" : random.nextInt(12) == 0 ? "a:b" : text();
            String pass = text();
            StringBuilder e = new StringBuilder("{");
            String[] members;
            switch (random.nextInt(5)) {
                case 0: members = new String[] {"username", "password"}; break;
                case 1: members = new String[] {"username", "password", "email", "auth"}; break;
                case 2: members = new String[] {"auth", "password", "username"}; break;
                case 3: members = new String[] {"identitytoken"}; break;
                default: members = new String[] {"password", "x-unknown", "username", "auth"}; break;
            }
            for (int i = 0; i < members.length; i++) {
                e.append(i == 0 ? "" : ",").append(nl(3)).append(quote(members[i])).append(colon);
                switch (members[i]) {
                    case "username": e.append(quote(user)); break;
                    case "password": e.append(quote(pass)); break;
                    case "auth": e.append(quote(random.nextBoolean() ? b64(user + ":" + pass) : b64(text() + ":" + text()))); break;
                    case "x-unknown": e.append("[1, {\"k\": null}, true]"); break;
                    default: e.append(quote(text()));
                }
            }
            return e.append(nl(2)).append("}").toString();
        }

        private String text() {
            String[] pieces = {"a", "Z", "0", "-", "_", "é", "☃", "😀", "\"", "\\", "/", " ", "tab\t", "ünï"};
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < 1 + random.nextInt(8); i++) {
                s.append(pieces[random.nextInt(pieces.length)]);
            }
            return s.toString();
        }

        private String word() {
            return Integer.toString(random.nextInt(1000), 36);
        }

        /** JSON string, escaping only what must be, plus some optional escapes (\/ and \\u) for variety. */
        private String quote(String s) {
            StringBuilder q = new StringBuilder("\"");
            s.codePoints().forEach(c -> {
                if (c == '"' || c == '\\') q.append('\\').appendCodePoint(c);
                else if (c == '\t') q.append("\\t");
                else if (c == '/' && random.nextBoolean()) q.append("\\/");
                else if (c > 127 && random.nextInt(3) == 0) {
                    for (char unit : Character.toChars(c)) q.append(String.format("\\u%04x", (int) unit));
                } else q.appendCodePoint(c);
            });
            return q.append('"').toString();
        }

        private String nl(int depth) {
            return indent.isEmpty() ? "" : "\n" + indent.repeat(depth);
        }
    }


}
