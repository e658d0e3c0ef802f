package dev.dockerconfigwebhook.core;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The property the webhook exists for, judged by {@link KubeletModel} (an independent model of Go's encoding/json and
 * of the kubelet's auth decoding) over generated documents full of the cases where Java and Go differ: invalid UTF-8,
 * unpaired surrogate escapes, folded member names (ſ, ı, İ), duplicate members, nulls, stale and malformed auths.
 *
 * <p>After the fix, for every registry the webhook calls fixed, the credentials the kubelet resolves from {@code auth}
 * are exactly the {@code username}/{@code password} it reads from the fields; and a document the kubelet accepted
 * before is still accepted after.
 */
class KubeletParityPropertyTest {

    static final int DOCUMENTS = 3_000;

    @Test
    void afterTheFixAuthResolvesToTheFieldsForEveryFixedRegistry() throws Exception {
        Random random = new Random(20261127);
        int fixedRegistries = 0;
        int acceptedBefore = 0;
        int fixedFromReplacedText = 0;
        for (int n = 0; n < DOCUMENTS; n++) {
            byte[] document = document(random);
            Map<String, String> data = new HashMap<>();
            data.put(".dockerconfigjson", Base64.getEncoder().encodeToString(document));
            FixResult result = new PullSecretFixer(false, Findings.KEEP_ALL).fix("kubernetes.io/dockerconfigjson", data);
            byte[] after = result instanceof FixResult.Patched patched ? patched.document() : document;
            String shown = new String(document, StandardCharsets.ISO_8859_1);

            Map<String, KubeletModel.Entry> before;
            try {
                before = KubeletModel.readDockerConfigJson(document);
                acceptedBefore++;
            } catch (KubeletModel.Rejected rejected) {
                before = null;
            }
            Map<String, KubeletModel.Entry> read;
            try {
                read = KubeletModel.readDockerConfigJson(after);
            } catch (KubeletModel.Rejected rejected) {
                assertEquals(null, before, "the fix broke a document the kubelet accepted: " + shown);
                continue;
            }
            for (Finding finding : result.findings().list()) {
                if (finding.category() != Finding.Category.FIXED) continue;
                fixedRegistries++;
                if (finding.kind() == Finding.Kind.AUTH_FROM_REPLACED_TEXT) fixedFromReplacedText++;
                KubeletModel.Entry entry = read.get(finding.key());
                assertNotNull(entry, finding.key() + " in " + shown);
                byte[][] fromAuth = entry.fromAuth();
                assertNotNull(fromAuth, "auth decodes: " + shown);
                assertArrayEquals(entry.username(), fromAuth[0], "username from auth = field: " + shown);
                assertArrayEquals(entry.password(), fromAuth[1], "password from auth = field: " + shown);
            }
        }
        // The generator must exercise what it claims to (counts are fixed by the seed).
        assertTrue(fixedRegistries > DOCUMENTS / 2, "fixed registries: " + fixedRegistries);
        assertTrue(fixedFromReplacedText > DOCUMENTS / 10, "fixed from text with U+FFFD: " + fixedFromReplacedText);
        assertTrue(acceptedBefore > DOCUMENTS / 2, "documents the kubelet accepted: " + acceptedBefore);
    }

    private static final List<String> USERNAME_KEYS = List.of("username", "Username", "USERNAME", "uſername", "u\\u017fername",
            "uSERNAME", "ıusername", "usernamе" /* Cyrillic е: another member */);
    private static final List<String> PASSWORD_KEYS = List.of("password", "PASSWORD", "paſſword", "Pa\\u0073sword", "passworD");
    private static final List<String> AUTH_KEYS = List.of("auth", "AUTH", "Auth", "aUTH");
    private static final List<String> EMAIL_KEYS = List.of("email", "EMAIL", "emaıl", "EMAİL", "\\u0065mail");
    private static final List<String> AUTHS_KEYS = List.of("auths", "AUTHS", "authſ", "Auths");

    static byte[] document(Random r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(out, "{");
        if (r.nextInt(10) == 0) write(out, "\"credsStore\":\"desktop\",");
        write(out, "\"" + pick(r, AUTHS_KEYS) + "\":{");
        int registries = 1 + r.nextInt(4);
        for (int i = 0; i < registries; i++) {
            if (i > 0) write(out, ",");
            // Distinct registries: findings name a registry, and with two definitions of one the kubelet sees only the
            // last (duplicate members inside an entry are generated below; duplicate registries are table cases).
            write(out, "\"r" + i + ".example\":");
            if (r.nextInt(20) == 0) {
                write(out, "null");
                continue;
            }
            write(out, "{");
            boolean first = true;
            int members = 1 + r.nextInt(5);
            for (int m = 0; m < members; m++) {
                if (!first) write(out, ",");
                first = false;
                switch (r.nextInt(6)) {
                    case 0, 1 -> member(out, r, pick(r, USERNAME_KEYS));
                    case 2, 3 -> member(out, r, pick(r, PASSWORD_KEYS));
                    case 4 -> {
                        write(out, "\"" + pick(r, AUTH_KEYS) + "\":");
                        auth(out, r);
                    }
                    default -> {
                        write(out, "\"" + pick(r, EMAIL_KEYS) + "\":");
                        write(out, r.nextInt(15) == 0 ? "7" : r.nextInt(10) == 0 ? "null" : "\"a@b.c\"");
                    }
                }
            }
            write(out, "}");
        }
        write(out, "}}");
        return out.toByteArray();
    }

    private static void member(ByteArrayOutputStream out, Random r, String key) {
        write(out, "\"" + key + "\":");
        if (r.nextInt(15) == 0) {
            write(out, "null");
            return;
        }
        write(out, "\"");
        int length = 1 + r.nextInt(6);
        for (int i = 0; i < length; i++) {
            switch (r.nextInt(12)) {
                case 0 -> out.write(0xFF);                                            // never valid UTF-8
                case 1 -> { out.write(0xE2); out.write(0x82); }                       // truncated sequence
                case 2 -> write(out, "\\ud800");                                      // unpaired high surrogate
                case 3 -> write(out, "\\udcff");                                      // unpaired low surrogate
                case 4 -> write(out, "\\ud83d\\ude00");                               // a valid pair
                case 5 -> write(out, "é");
                case 6 -> write(out, "\\u00e9");
                case 7 -> write(out, r.nextInt(4) == 0 ? ":" : "x");                  // ':' makes a username unfixable
                default -> write(out, String.valueOf((char) ('a' + r.nextInt(26))));
            }
        }
        write(out, "\"");
    }

    private static void auth(ByteArrayOutputStream out, Random r) {
        switch (r.nextInt(6)) {
            case 0 -> write(out, "\"" + Base64.getEncoder().encodeToString("old:stale".getBytes(StandardCharsets.UTF_8)) + "\"");
            case 1 -> write(out, "\"bm90LWJhc2U2NA\"");             // unpadded, decodes, no ':'
            case 2 -> write(out, "\"!!\"");                         // not base64
            case 3 -> write(out, "\"\"");                           // empty: the fields count
            case 4 -> write(out, "null");
            default -> write(out, "\"" + Base64.getEncoder().withoutPadding()
                    .encodeToString("a:b".getBytes(StandardCharsets.UTF_8)) + "\"");
        }
    }

    private static String pick(Random r, List<String> options) {
        return options.get(r.nextInt(options.size()));
    }

    private static void write(ByteArrayOutputStream out, String text) {
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
    }
}
