package dev.dockerconfigwebhook.core.json;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A strict RFC 8259 pull parser over UTF-8 bytes that reports where every value and object member sits, so that a
 * caller can change a few string values by splicing bytes and leave everything else (order, whitespace, number
 * spellings, escapes, duplicate keys) exactly as written.
 *
 * <p>It builds no tree: the caller walks the document it expects ({@link #beginObject()}, {@link #nextMember()},
 * {@link #readString()}) and {@link #skipValue()}s the rest, which is validated without allocating. So the memory a
 * parse costs is what the caller keeps, whatever the number of members; nesting is tracked in a bit stack, so depth
 * costs one bit per level and never the Java stack.
 *
 * <p>Strings are read the way Go's {@code encoding/json} reads them: invalid UTF-8 and lone surrogate escapes are
 * accepted and {@link Text#bytes()} holds U+FFFD in their place, exactly where Go puts it (one per invalid byte, one
 * per unpaired surrogate escape); {@link Text#wellFormed()} says whether that happened.
 *
 * <p>Why hand-written and not a layer over Jackson's streaming parser with token byte offsets: Jackson refuses
 * invalid UTF-8 inside strings (JsonParseException, with no lenient switch), and the kubelet accepts it, so Jackson
 * could not give the kubelet's reading of such a password at all. It is also slower and allocates more for the same
 * walk (bench/parser-choice.sh, 2 runs, JDK 17: 0.7-1.4 vs 1.2-8.8 ns per byte; 1.0 vs 3.9-8.6 bytes allocated per
 * document byte from 100 registries up; figures in BENCHMARKS.md).
 */
public final class JsonCursor {

    /** Go's encoding/json refuses documents nested deeper than this, so the API server and the kubelet do too. */
    public static final int MAX_DEPTH = 10_000;

    public enum Kind { OBJECT, ARRAY, STRING, NUMBER, TRUE, FALSE, NULL }

    /**
     * A string value: {@code [start, end)} spans it with its quotes; {@code bytes} is its unescaped UTF-8 text.
     */
    public record Text(int start, int end, byte[] bytes, boolean wellFormed) {
        public String string() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /** Thrown for anything that is not a single valid JSON value; the message names a position, never content. */
    public static final class MalformedJsonException extends Exception {
        MalformedJsonException(String reason, int offset) {
            super(reason + " at byte " + offset, null, false, false);
        }
    }

    private final byte[] in;
    private final int limit;
    private int pos;
    /** One bit per open container, set for objects: what a closing bracket must match. */
    private final long[] containers = new long[MAX_DEPTH / 64 + 1];
    private int depth;
    /** True right after '{' (the next member is the first); false once a member was read in this object. */
    private boolean firstMember;
    private int firstLeadStart;

    // The member most recently returned by nextMember().
    private int leadStart;
    private int keyStart;
    private int keyEnd;
    private boolean keyPlain;
    /** Just past the value most recently consumed (before the whitespace after it). */
    private int valueEnd;

    public JsonCursor(byte[] document) {
        this(document, 0, document.length);
    }

    /** A cursor over {@code document[from, to)}; offsets it reports are offsets into {@code document}. */
    public JsonCursor(byte[] document, int from, int to) {
        this.in = document;
        this.pos = from;
        this.limit = to;
        skipWhitespace();
    }

    /** The kind of the value at the cursor. */
    public Kind peek() throws MalformedJsonException {
        if (pos >= limit) throw error("unexpected end of input");
        switch (in[pos]) {
            case '{': return Kind.OBJECT;
            case '[': return Kind.ARRAY;
            case '"': return Kind.STRING;
            case 't': return Kind.TRUE;
            case 'f': return Kind.FALSE;
            case 'n': return Kind.NULL;
            default:
                if (in[pos] == '-' || isDigit(in[pos])) return Kind.NUMBER;
                throw error("unexpected character");
        }
    }

    /** Where the value at the cursor starts. */
    public int position() {
        return pos;
    }

    /** Just past the value most recently consumed (read, skipped, or an object left by {@link #nextMember()}). */
    public int valueEnd() {
        return valueEnd;
    }

    /** Enters the object at the cursor; then call {@link #nextMember()} until it returns false. */
    public void beginObject() throws MalformedJsonException {
        if (peek() != Kind.OBJECT) throw error("expected an object");
        open(true);
        pos++;
        firstMember = true;
        firstLeadStart = pos;
        skipWhitespace();
    }

    /**
     * Moves to the next member of the current object and returns true, positioned at its value (which the caller
     * must then consume), or consumes the closing brace and returns false.
     */
    public boolean nextMember() throws MalformedJsonException {
        int lead = firstLeadStart;
        if (pos < limit && in[pos] == '}') {
            pos++;
            close();
            return false;
        }
        if (!firstMember) {
            if (pos >= limit || in[pos] != ',') throw error(pos >= limit ? "unexpected end of input" : "expected ',' or '}'");
            pos++;
            lead = pos;
            skipWhitespace();
        }
        firstMember = false;
        if (pos >= limit || in[pos] != '"') throw error(pos >= limit ? "unexpected end of input" : "expected a member name");
        leadStart = lead;
        keyStart = pos;
        keyPlain = skipString();
        keyEnd = pos;
        skipWhitespace();
        if (pos >= limit || in[pos] != ':') throw error("expected ':'");
        pos++;
        skipWhitespace();
        return true;
    }

    /** The first byte after the preceding '{' or ',': {@code [leadStart, keyStart)} is the whitespace before the key. */
    public int memberLeadStart() {
        return leadStart;
    }

    /** The offset of the current member's opening quote. */
    public int memberKeyStart() {
        return keyStart;
    }

    /** The offset just past the current member's closing quote. */
    public int memberKeyEnd() {
        return keyEnd;
    }

    /** The current member's key as unescaped UTF-8 bytes. */
    public byte[] memberKey() {
        if (keyPlain) return Arrays.copyOfRange(in, keyStart + 1, keyEnd - 1);
        return unescape(keyStart).bytes();
    }

    private boolean isAscii(int from, int to) {
        for (int i = from; i < to; i++) {
            if (in[i] < 0) return false;
        }
        return true;
    }

    /** The unescaped UTF-8 text of the (already read) string whose opening quote is at {@code start}. */
    public byte[] stringAt(int start) {
        return unescape(start).bytes();
    }

    /** Whether the current member's key is written as plain ASCII (no escapes), so it can be compared in place. */
    public boolean memberKeyIsPlainAscii() {
        return keyPlain && isAscii(keyStart + 1, keyEnd - 1);
    }

    /** The raw bytes of the document, for callers that compare plain keys in place. */
    public byte[] document() {
        return in;
    }

    /** Reads the string at the cursor. */
    public Text readString() throws MalformedJsonException {
        if (peek() != Kind.STRING) throw error("expected a string");
        int start = pos;
        if (skipString() && isAscii(start + 1, pos - 1)) {
            Text text = new Text(start, pos, Arrays.copyOfRange(in, start + 1, pos - 1), true);
            afterValue();
            return text;
        }
        Text text = unescape(start);
        afterValue();
        return text;
    }

    /** Validates and skips the value at the cursor, however deep, without allocating. */
    public void skipValue() throws MalformedJsonException {
        int base = depth;
        while (true) {
            // At the start of a value.
            if (pos >= limit) throw error("unexpected end of input");
            byte b = in[pos];
            if (b == '{' || b == '[') {
                open(b == '{');
                pos++;
                skipWhitespace();
                byte close = b == '{' ? (byte) '}' : (byte) ']';
                if (pos < limit && in[pos] == close) {
                    pos++;
                    depth--;
                } else {
                    if (b == '{') memberName();
                    continue;
                }
            } else if (b == '"') {
                skipString();
            } else if (b == 't') {
                literal("true");
            } else if (b == 'f') {
                literal("false");
            } else if (b == 'n') {
                literal("null");
            } else if (b == '-' || isDigit(b)) {
                number();
            } else {
                throw error("unexpected character");
            }
            // After a value: close containers until another value is due.
            while (true) {
                if (depth == base) {
                    afterValue();
                    return;
                }
                skipWhitespace();
                boolean inObject = isObject(depth);
                if (pos >= limit) throw error("unexpected end of input");
                byte next = in[pos];
                if (next == ',') {
                    pos++;
                    skipWhitespace();
                    if (inObject) memberName();
                    break;
                }
                if (next == (inObject ? '}' : ']')) {
                    pos++;
                    depth--;
                    continue;
                }
                throw error(inObject ? "expected ',' or '}'" : "expected ',' or ']'");
            }
        }
    }

    /** Requires that nothing but whitespace follows the top-level value. */
    public void finish() throws MalformedJsonException {
        skipWhitespace();
        if (depth != 0) throw error("unexpected end of input");
        if (pos != limit) throw error("unexpected data after the top-level value");
    }

    private void memberName() throws MalformedJsonException {
        if (pos >= limit || in[pos] != '"') throw error(pos >= limit ? "unexpected end of input" : "expected a member name");
        skipString();
        skipWhitespace();
        if (pos >= limit || in[pos] != ':') throw error("expected ':'");
        pos++;
        skipWhitespace();
    }

    /** After a value that the caller consumed: whitespace, so the next call sees ',' or a closing bracket. */
    private void afterValue() {
        valueEnd = pos;
        skipWhitespace();
    }

    private void open(boolean object) throws MalformedJsonException {
        if (depth == MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " levels");
        int slot = depth >> 6;
        long bit = 1L << (depth & 63);
        containers[slot] = object ? containers[slot] | bit : containers[slot] & ~bit;
        depth++;
    }

    private void close() {
        depth--;
        firstMember = false; // the parent has just read a value
        afterValue();
    }

    /** Whether the container at {@code level} (1-based) is an object. */
    private boolean isObject(int level) {
        int index = level - 1;
        return (containers[index >> 6] & 1L << (index & 63)) != 0;
    }

    /**
     * Moves past the string at the cursor, validating it. Returns true when it is "plain": no escapes, so its text
     * is its bytes. Raw bytes of 0x80 and above are accepted as they are (see the class comment).
     */
    private boolean skipString() throws MalformedJsonException {
        pos++;
        boolean plain = true;
        while (true) {
            if (pos >= limit) throw error("unterminated string");
            byte b = in[pos];
            if (b == '"') {
                pos++;
                return plain;
            }
            if (b == '\\') {
                plain = false;
                if (pos + 1 >= limit) throw error("unterminated escape");
                byte e = in[pos + 1];
                if (e == 'u') {
                    pos += 2;
                    hex4();
                    continue;
                }
                if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
                    throw error("invalid escape", pos + 1);
                }
                pos += 2;
                continue;
            }
            if (b >= 0 && b < 0x20) throw error("control character in string");
            pos++;
        }
    }

    /** Decodes the (already validated) string starting at {@code start}. */
    private Text unescape(int start) {
        int p = start + 1;
        ByteArrayOutputStream text = new ByteArrayOutputStream(16);
        boolean wellFormed = true;
        while (true) {
            int b = in[p] & 0xff;
            if (b == '"') {
                return new Text(start, p + 1, text.toByteArray(), wellFormed);
            }
            if (b == '\\') {
                byte e = in[p + 1];
                p += 2;
                switch (e) {
                    case 'b': text.write('\b'); continue;
                    case 'f': text.write('\f'); continue;
                    case 'n': text.write('\n'); continue;
                    case 'r': text.write('\r'); continue;
                    case 't': text.write('\t'); continue;
                    case 'u': break;
                    default: text.write(e); continue; // '"', '\\', '/'
                }
                int unit = hexAt(p);
                p += 4;
                if (Character.isHighSurrogate((char) unit) && p + 5 < limit && in[p] == '\\' && in[p + 1] == 'u') {
                    int low = hexAt(p + 2);
                    if (Character.isLowSurrogate((char) low)) {
                        writeUtf8(text, Character.toCodePoint((char) unit, (char) low));
                        p += 6;
                        continue;
                    }
                }
                if (Character.isSurrogate((char) unit)) {
                    writeUtf8(text, 0xFFFD);
                    wellFormed = false;
                } else {
                    writeUtf8(text, unit);
                }
            } else if (b < 0x80) {
                text.write(b);
                p++;
            } else {
                int length = utf8SequenceLength(p);
                if (length == 0) {
                    // Go's utf8.DecodeRune: one U+FFFD per byte that starts no valid sequence, then the next byte.
                    writeUtf8(text, 0xFFFD);
                    wellFormed = false;
                    p++;
                } else {
                    text.write(in, p, length);
                    p += length;
                }
            }
        }
    }

    private void hex4() throws MalformedJsonException {
        if (pos + 4 > limit) throw error("truncated \\u escape");
        for (int i = 0; i < 4; i++) {
            if (Character.digit(in[pos + i], 16) < 0) throw error("invalid \\u escape", pos + i);
        }
        pos += 4;
    }

    private int hexAt(int p) {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            v = v << 4 | Character.digit(in[p + i], 16);
        }
        return v;
    }

    private static void writeUtf8(ByteArrayOutputStream out, int cp) {
        if (cp < 0x80) {
            out.write(cp);
        } else if (cp < 0x800) {
            out.write(0xC0 | cp >> 6);
            out.write(0x80 | cp & 0x3F);
        } else if (cp < 0x10000) {
            out.write(0xE0 | cp >> 12);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        } else {
            out.write(0xF0 | cp >> 18);
            out.write(0x80 | cp >> 12 & 0x3F);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        }
    }

    /** Length of the well-formed UTF-8 sequence at {@code p}, or 0 if it is not one (RFC 3629). */
    private int utf8SequenceLength(int p) {
        int b0 = in[p] & 0xff;
        int len;
        int min;
        if (b0 >= 0xC2 && b0 <= 0xDF) { len = 2; min = 0x80; }
        else if (b0 >= 0xE0 && b0 <= 0xEF) { len = 3; min = 0x800; }
        else if (b0 >= 0xF0 && b0 <= 0xF4) { len = 4; min = 0x10000; }
        else return 0;
        if (p + len > limit) return 0;
        int cp = b0 & (0xFF >> (len + 1));
        for (int i = 1; i < len; i++) {
            int b = in[p + i] & 0xff;
            if ((b & 0xC0) != 0x80) return 0;
            cp = cp << 6 | b & 0x3F;
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        return len;
    }

    private void number() throws MalformedJsonException {
        if (in[pos] == '-') pos++;
        if (pos < limit && in[pos] == '0') {
            pos++;
        } else if (pos < limit && isDigit(in[pos])) {
            while (pos < limit && isDigit(in[pos])) pos++;
        } else {
            throw error("invalid number");
        }
        if (pos < limit && in[pos] == '.') {
            pos++;
            if (pos >= limit || !isDigit(in[pos])) throw error("invalid number");
            while (pos < limit && isDigit(in[pos])) pos++;
        }
        if (pos < limit && (in[pos] == 'e' || in[pos] == 'E')) {
            pos++;
            if (pos < limit && (in[pos] == '+' || in[pos] == '-')) pos++;
            if (pos >= limit || !isDigit(in[pos])) throw error("invalid number");
            while (pos < limit && isDigit(in[pos])) pos++;
        }
    }

    private void literal(String word) throws MalformedJsonException {
        for (int i = 0; i < word.length(); i++) {
            if (pos >= limit || in[pos] != word.charAt(i)) throw error("invalid literal");
            pos++;
        }
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    private void skipWhitespace() {
        while (pos < limit) {
            byte b = in[pos];
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return;
            pos++;
        }
    }

    private MalformedJsonException error(String reason) {
        return error(reason, pos);
    }

    private MalformedJsonException error(String reason, int offset) {
        return new MalformedJsonException(reason, offset);
    }
}
