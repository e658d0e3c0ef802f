package dev.dockerconfigwebhook.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where Java's and Go's readings of JSON text differ, the webhook reads as the kubelet does (Go's encoding/json):
 * invalid UTF-8 and unpaired surrogate escapes become U+FFFD (one per invalid byte, one per unpaired escape), and
 * member names match field names by Go's case folding, not Java's.
 */
class GoDecodingParityTest {

    private static final byte[] FFFD = {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD};

    /** Raw JSON string content (between the quotes) and what Go's decoder makes of it. */
    static Stream<Arguments> texts() {
        return Stream.of(
                Arguments.of("one invalid byte 0xFF", bytes("p4ss", 0xFF), concat(ascii("p4ss"), FFFD)),
                Arguments.of("a truncated sequence: one U+FFFD per byte", bytes("x", 0xE2, 0x82),
                        concat(ascii("x"), FFFD, FFFD)),
                Arguments.of("a surrogate encoded in UTF-8 (ED A0 80)", bytes("", 0xED, 0xA0, 0x80), concat(FFFD, FFFD, FFFD)),
                Arguments.of("an overlong '/' (C0 AF)", bytes("", 0xC0, 0xAF), concat(FFFD, FFFD)),
                Arguments.of("a continuation byte alone", bytes("a", 0x80, 'b'), concat(ascii("a"), FFFD, ascii("b"))),
                Arguments.of("lone high surrogate escape", ascii("\\ud800"), FFFD),
                Arguments.of("lone low surrogate escape", ascii("\\udcff"), FFFD),
                Arguments.of("high surrogate then another escape", ascii("\\ud800\\u0041"), concat(FFFD, ascii("A"))),
                Arguments.of("two high surrogates", ascii("\\ud800\\ud800"), concat(FFFD, FFFD)),
                Arguments.of("a valid pair stays one code point", ascii("\\ud83d\\ude00"),
                        "\uD83D\uDE00".getBytes(StandardCharsets.UTF_8)),
                Arguments.of("valid UTF-8 is kept as is", "pässwörd".getBytes(StandardCharsets.UTF_8),
                        "pässwörd".getBytes(StandardCharsets.UTF_8)));
    }

    @ParameterizedTest(name = "password: {0}")
    @MethodSource("texts")
    void authIsDerivedFromThePasswordAsGoDecodesIt(String name, byte[] raw, byte[] goDecoded) {
        byte[] document = concat(ascii("{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\""), raw,
                ascii("\",\"auth\":\"" + b64(ascii("alice:old")) + "\"}}}"));
        Fixed result = fix(document);
        assertEquals(Fixed.Outcome.PATCHED, result.outcome(), name);
        byte[] expectedAuth = Base64.getEncoder().encode(concat(ascii("alice:"), goDecoded));
        byte[] out = Base64.getDecoder().decode(result.data().get(".dockerconfigjson"));
        assertArrayEquals(replaceAuth(document, expectedAuth), out, "only auth changed, the raw bytes stay");
        assertEquals(Fixed.fix(false, PullSecretType.DOCKER_CONFIG_JSON.secretType(), result.data()).outcome(),
                Fixed.Outcome.UNCHANGED, "idempotent");
    }

    @ParameterizedTest(name = "username: {0}")
    @MethodSource("texts")
    void authIsDerivedFromTheUsernameAsGoDecodesIt(String name, byte[] raw, byte[] goDecoded) {
        byte[] document = concat(ascii("{\"auths\":{\"r.io\":{\"username\":\"u"), raw, ascii("\",\"password\":\"pw\"}}}"));
        Fixed result = fix(document);
        assertEquals(Fixed.Outcome.PATCHED, result.outcome(), name);
        String out = new String(Base64.getDecoder().decode(result.data().get(".dockerconfigjson")), StandardCharsets.ISO_8859_1);
        String auth = out.replaceAll("(?s).*\"auth\":\"([^\"]+)\".*", "$1");
        assertArrayEquals(concat(ascii("u"), goDecoded, ascii(":pw")), Base64.getDecoder().decode(auth));
        boolean replaced = !java.util.Arrays.equals(raw, goDecoded) && !name.startsWith("a valid pair");
        if (replaced) {
            assertTrue(result.warnings().get(0).contains("U+FFFD"), result.warnings().toString());
        }
    }

    /** The names Go's decoder matches to a field, per field name and per position, for every rune below U+10000. */
    @Test
    void fieldNamesFoldExactlyAsGoFoldsThemForEveryBmpCodePoint() {
        // Go folds a rune to the smallest of its simple-folding orbit; the only non-ASCII orbits reaching ASCII letters
        // are those of U+017F (onto S) and U+212A (onto K). Checked against Go itself (1.19's decoder and 1.21's
        // foldRune over unicode.SimpleFold, for all of U+0080..U+FFFF): exactly those two, so 'ı' and 'İ' match nothing.
        int checked = 0;
        for (String upper : List.of("USERNAME", "PASSWORD", "AUTH", "EMAIL", "AUTHS")) {
            for (int position = 0; position < upper.length(); position++) {
                char letter = upper.charAt(position);
                for (int cp = 0; cp < 0x10000; cp++) {
                    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
                    String key = upper.substring(0, position).toLowerCase() + Character.toString(cp)
                            + upper.substring(position + 1).toLowerCase();
                    boolean go = cp == letter || cp == Character.toLowerCase(letter)
                            || (letter == 'S' && cp == 0x17F) || (letter == 'K' && cp == 0x212A);
                    if (go != DockerConfigRepair.foldsTo(key.getBytes(StandardCharsets.UTF_8), upper)) {
                        throw new AssertionError(upper + " with U+" + Integer.toHexString(cp) + " (" + key + "): Go "
                                + (go ? "matches" : "does not match"));
                    }
                    checked++;
                }
            }
        }
        assertEquals(30 * (0x10000 - 0x800), checked); // 30 letters in the five names
    }

    static Stream<Arguments> foldedNames() {
        return Stream.of(
                Arguments.of("'emaıl' (dotless ı) is not email: its number is ignored", "\"emaıl\":5", true),
                Arguments.of("'EMAİL' (dotted İ) is not email either", "\"EMAİL\":5", true),
                Arguments.of("'email' as a number is read (and the secret left alone)", "\"EMAIL\":5", false),
                Arguments.of("'paſſword' (long s) is the password", "\"paſſword\":7", false),
                Arguments.of("'uſername' escaped as \\u017f is the username", "\"u\\u017fername\":7", false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("foldedNames")
    void membersGoIgnoresAreIgnoredAndMembersGoReadsAreRead(String name, String member, boolean fixed) {
        byte[] document = ("{\"auths\":{\"r.io\":{\"username\":\"alice\",\"password\":\"new\"," + member + "}}}")
                .getBytes(StandardCharsets.UTF_8);
        Fixed result = fix(document);
        assertEquals(fixed ? Fixed.Outcome.PATCHED : Fixed.Outcome.UNCHANGED, result.outcome(), name + " " + result.warnings());
    }

    private static Fixed fix(byte[] document) {
        Map<String, String> data = new HashMap<>();
        data.put(".dockerconfigjson", Base64.getEncoder().encodeToString(document));
        return Fixed.fix(false, PullSecretType.DOCKER_CONFIG_JSON.secretType(), data);
    }

    private static byte[] replaceAuth(byte[] document, byte[] auth) {
        String text = new String(document, StandardCharsets.ISO_8859_1);
        String replaced = text.replaceAll("\"auth\":\"[^\"]+\"",
                "\"auth\":\"" + new String(auth, StandardCharsets.ISO_8859_1) + "\"");
        return replaced.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] bytes(String prefix, int... raw) {
        byte[] p = ascii(prefix);
        byte[] out = new byte[p.length + raw.length];
        System.arraycopy(p, 0, out, 0, p.length);
        for (int i = 0; i < raw.length; i++) out[p.length + i] = (byte) raw[i];
        return out;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) out.writeBytes(part);
        return out.toByteArray();
    }
}
