package dev.dockerconfigwebhook.core;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An independent model of how the kubelet reads a pull secret, for the parity property test: Go's encoding/json
 * (strings decoded with U+FFFD for each invalid UTF-8 byte and each unpaired surrogate escape; member names matched to
 * struct fields by Go's folding; the last duplicate wins; null leaves a field as it was; a wrongly typed field fails
 * the whole document) and Kubernetes' {@code DockerConfigEntry.UnmarshalJSON} + {@code decodeDockerConfigFieldAuth}.
 * It shares no code with the webhook's parser or rules.
 */
final class KubeletModel {

    /** An entry as the kubelet holds it after decoding: the fields as written, and what auth resolves to. */
    record Entry(byte[] username, byte[] password, byte[] auth) {
        /** decodeDockerConfigFieldAuth: user and password from auth, or null where the kubelet fails on it. */
        byte[][] fromAuth() {
            // strings.HasSuffix(strings.TrimSpace(field), "=") picks StdEncoding, else RawStdEncoding; both skip \r, \n.
            boolean padded = new String(auth, java.nio.charset.StandardCharsets.ISO_8859_1).strip().endsWith("=");
            byte[] compact = withoutNewlines(auth);
            if (padded ? compact.length % 4 != 0 : indexOf(compact, (byte) '=') >= 0) return null;
            byte[] decoded;
            try {
                decoded = Base64.getDecoder().decode(compact);
            } catch (IllegalArgumentException e) {
                return null;
            }
            int colon = indexOf(decoded, (byte) ':'); // strings.SplitN(decoded, ":", 2)
            if (colon < 0) return null;
            return new byte[][] {Arrays.copyOfRange(decoded, 0, colon), Arrays.copyOfRange(decoded, colon + 1, decoded.length)};
        }
    }

    /** Thrown where the kubelet rejects the whole document. */
    static final class Rejected extends Exception {
        Rejected(String why) {
            super(why, null, false, false);
        }
    }

    /** The registries of a {@code .dockerconfigjson} document (entries under "auths"), last definition of each. */
    static Map<String, Entry> readDockerConfigJson(byte[] document) throws Rejected {
        Parser p = new Parser(document);
        Map<String, Entry> registries = new LinkedHashMap<>();
        p.ws();
        p.members(key -> {
            if (!goFoldEquals(key, "auths") || p.peekLiteral("null")) {
                p.skip();
            } else {
                // A second "auths" adds to the same map, as Go reuses it; the last duplicate registry wins, decoded afresh.
                p.members(registry -> registries.put(new String(registry, java.nio.charset.StandardCharsets.UTF_8), entry(p)));
            }
        });
        p.ws();
        if (p.pos != document.length) throw new Rejected("data after the document");
        return registries;
    }

    private static Entry entry(Parser p) throws Rejected {
        byte[][] fields = new byte[4][]; // username, password, email, auth
        if (p.peekLiteral("null")) {
            p.skip();
            return new Entry(new byte[0], new byte[0], new byte[0]);
        }
        String[] names = {"username", "password", "email", "auth"};
        p.members(key -> {
            int field = -1;
            for (int i = 0; i < names.length; i++) {
                if (goFoldEquals(key, names[i])) field = i;
            }
            if (field < 0 || p.peekLiteral("null")) {
                p.skip(); // unknown member, or null: no effect on the field
            } else if (p.peek() == '"') {
                fields[field] = p.string();
            } else {
                throw new Rejected(names[field] + " is not a string");
            }
        });
        return new Entry(orEmpty(fields[0]), orEmpty(fields[1]), orEmpty(fields[3]));
    }

    /**
     * Go's case-insensitive match of a member name against a lower-case ASCII field name: each rune folds to the
     * smallest rune of its simple-folding orbit, which for non-ASCII runes reaches ASCII only from U+017F and U+212A.
     */
    static boolean goFoldEquals(byte[] key, String field) {
        String text = new String(key, java.nio.charset.StandardCharsets.UTF_8);
        int[] runes = text.codePoints().toArray();
        if (runes.length != field.length()) return false;
        for (int i = 0; i < runes.length; i++) {
            int r = runes[i];
            int folded = r == 0x17F ? 's' : r == 0x212A ? 'k' : r < 0x80 ? Character.toLowerCase(r) : -1;
            if (folded != field.charAt(i)) return false;
        }
        return true;
    }

    private static byte[] orEmpty(byte[] b) {
        return b == null ? new byte[0] : b;
    }

    static byte[] withoutNewlines(byte[] in) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
        for (byte b : in) if (b != '\n' && b != '\r') out.write(b);
        return out.toByteArray();
    }

    static int indexOf(byte[] in, byte b) {
        for (int i = 0; i < in.length; i++) if (in[i] == b) return i;
        return -1;
    }

    /** Reads one member's value, positioned just after its colon. */
    private interface Member {
        void read(byte[] key) throws Rejected;
    }

    /** Just enough JSON for these documents, with Go's string decoding. */
    private static final class Parser {
        final byte[] in;
        int pos;

        Parser(byte[] in) {
            this.in = in;
        }

        int peek() throws Rejected {
            if (pos >= in.length) throw new Rejected("truncated");
            return in[pos];
        }

        boolean peekLiteral(String word) {
            return pos + word.length() <= in.length
                    && new String(in, pos, word.length(), java.nio.charset.StandardCharsets.ISO_8859_1).equals(word);
        }

        void expect(char c) throws Rejected {
            if (peek() != c) throw new Rejected("expected " + c);
            pos++;
        }

        /** An object at the cursor: each member's decoded key to {@code member}, which consumes the value. */
        void members(Member member) throws Rejected {
            if (peek() != '{') throw new Rejected("not an object");
            pos++;
            ws();
            if (peek() == '}') { pos++; return; }
            while (true) {
                ws();
                byte[] key = string();
                ws();
                expect(':');
                ws();
                member.read(key);
                ws();
                if (peek() == ',') { pos++; continue; }
                expect('}');
                return;
            }
        }

        void ws() {
            while (pos < in.length && (in[pos] == ' ' || in[pos] == '\t' || in[pos] == '\n' || in[pos] == '\r')) pos++;
        }

        /** Skips any value (the generated documents hold only strings, numbers, literals, objects and arrays). */
        void skip() throws Rejected {
            int c = peek();
            if (c == '"') { string(); return; }
            if (c == '{' || c == '[') {
                int close = c == '{' ? '}' : ']';
                pos++;
                ws();
                if (peek() == close) { pos++; return; }
                while (true) {
                    ws();
                    if (c == '{') { string(); ws(); expect(':'); ws(); }
                    skip();
                    ws();
                    if (peek() == ',') { pos++; continue; }
                    expect((char) close);
                    return;
                }
            }
            int start = pos;
            while (pos < in.length && "{}[],: \t\r\n\"".indexOf(in[pos]) < 0) pos++;
            if (pos == start) throw new Rejected("unexpected character");
        }

        /** A string as Go decodes it. */
        byte[] string() throws Rejected {
            expect('"');
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                int b = peek() & 0xff;
                if (b == '"') { pos++; return out.toByteArray(); }
                if (b == '\\') {
                    int e = in[pos + 1];
                    pos += 2;
                    if (e != 'u') {
                        out.write(switch (e) { case 'n' -> '\n'; case 't' -> '\t'; case 'r' -> '\r'; case 'b' -> '\b';
                            case 'f' -> '\f'; default -> e; });
                        continue;
                    }
                    int unit = Integer.parseInt(new String(in, pos, 4, java.nio.charset.StandardCharsets.ISO_8859_1), 16);
                    pos += 4;
                    if (unit >= 0xD800 && unit <= 0xDFFF) {
                        // utf16.DecodeRune(r1, r2) with the next \\u escape, else U+FFFD for this one alone
                        if (unit <= 0xDBFF && pos + 6 <= in.length && in[pos] == '\\' && in[pos + 1] == 'u') {
                            int low = Integer.parseInt(new String(in, pos + 2, 4, java.nio.charset.StandardCharsets.ISO_8859_1), 16);
                            if (low >= 0xDC00 && low <= 0xDFFF) {
                                pos += 6;
                                out.writeBytes(new String(Character.toChars(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)))
                                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
                                continue;
                            }
                        }
                        out.writeBytes(REPLACEMENT);
                    } else {
                        out.writeBytes(new String(Character.toChars(unit)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    }
                    continue;
                }
                int size = decodeRuneSize(pos);
                if (size == 0) {
                    out.writeBytes(REPLACEMENT); // utf8.DecodeRune: (RuneError, 1)
                    pos++;
                } else {
                    out.write(in, pos, size);
                    pos += size;
                }
            }
        }

        /** Go's utf8.DecodeRune acceptance: the size of a valid sequence at p, or 0. */
        int decodeRuneSize(int p) {
            int b0 = in[p] & 0xff;
            if (b0 < 0x80) return 1;
            int n = b0 >= 0xF0 && b0 <= 0xF4 ? 4 : b0 >= 0xE0 && b0 <= 0xEF ? 3 : b0 >= 0xC2 && b0 <= 0xDF ? 2 : 0;
            if (n == 0 || p + n > in.length) return 0;
            int lo = 0x80;
            int hi = 0xBF;
            if (b0 == 0xE0) lo = 0xA0;
            if (b0 == 0xED) hi = 0x9F;
            if (b0 == 0xF0) lo = 0x90;
            if (b0 == 0xF4) hi = 0x8F;
            int b1 = in[p + 1] & 0xff;
            if (b1 < lo || b1 > hi) return 0;
            for (int i = 2; i < n; i++) {
                int b = in[p + i] & 0xff;
                if (b < 0x80 || b > 0xBF) return 0;
            }
            return n;
        }
    }

    private static final byte[] REPLACEMENT = {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD};
}
