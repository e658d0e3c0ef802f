package dev.dockerconfigwebhook.core.json;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A strict RFC 8259 parser over UTF-8 bytes that remembers where every value and object member sits,
 * so that callers can change a few string values by splicing bytes and leave everything else
 * (order, whitespace, number spellings, escapes, duplicate keys) exactly as written.
 *
 * <p>Only objects keep their children; arrays are validated and skipped, because nothing in a
 * Docker config that this project edits lives inside an array.
 */
public final class SpanJson {

    /** Deeper documents are refused instead of risking the stack; real Docker configs nest 3 levels. */
    public static final int MAX_DEPTH = 512;

    public enum Kind { OBJECT, ARRAY, STRING, NUMBER, TRUE, FALSE, NULL }

    /** A parsed value and its byte range {@code [start, end)} in the document. */
    public static final class Value {
        private final Kind kind;
        private final int start;
        private final int end;
        private final byte[] text;
        private final boolean wellFormedText;
        private final List<Member> members;

        private Value(Kind kind, int start, int end, byte[] text, boolean wellFormedText, List<Member> members) {
            this.kind = kind;
            this.start = start;
            this.end = end;
            this.text = text;
            this.wellFormedText = wellFormedText;
            this.members = members;
        }

        public Kind kind() { return kind; }
        public int start() { return start; }
        public int end() { return end; }

        /** The unescaped UTF-8 bytes of a string value. */
        public byte[] text() {
            if (kind != Kind.STRING) throw new IllegalStateException("not a string: " + kind);
            return text;
        }

        /** False when a string holds invalid UTF-8 or a lone surrogate escape, which Go would replace with U+FFFD. */
        public boolean wellFormedText() { return wellFormedText; }

        /** The members of an object in document order, duplicates included. */
        public List<Member> members() {
            if (kind != Kind.OBJECT) throw new IllegalStateException("not an object: " + kind);
            return members;
        }
    }

    /**
     * One {@code "key": value} member. {@code keyStart} is the offset of the key's opening quote and
     * {@code leadStart} the first byte after the preceding {@code '{'} or {@code ','}, so
     * {@code [leadStart, keyStart)} is the whitespace a writer put before the key.
     */
    public record Member(byte[] key, int leadStart, int keyStart, int keyEnd, Value value) {
        /** The key as text; invalid UTF-8 is replaced, which is only ever used for display and matching. */
        public String keyText() {
            return new String(key, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** Thrown for anything that is not a single valid JSON value; the message names a position, never content. */
    public static final class MalformedJsonException extends Exception {
        MalformedJsonException(String reason, int offset) {
            super(reason + " at byte " + offset, null, false, false);
        }
    }

    private final byte[] in;
    private int pos;

    private SpanJson(byte[] in) {
        this.in = in;
    }

    public static Value parse(byte[] document) throws MalformedJsonException {
        SpanJson parser = new SpanJson(document);
        parser.skipWhitespace();
        Value value = parser.value(0);
        parser.skipWhitespace();
        if (parser.pos != document.length) {
            throw parser.error("unexpected data after the top-level value");
        }
        return value;
    }

    private Value value(int depth) throws MalformedJsonException {
        if (pos >= in.length) throw error("unexpected end of input");
        byte b = in[pos];
        switch (b) {
            case '{': return object(depth + 1);
            case '[': return array(depth + 1);
            case '"': return string();
            case 't': return literal("true", Kind.TRUE);
            case 'f': return literal("false", Kind.FALSE);
            case 'n': return literal("null", Kind.NULL);
            default:
                if (b == '-' || (b >= '0' && b <= '9')) return number();
                throw error("unexpected character");
        }
    }

    private Value object(int depth) throws MalformedJsonException {
        if (depth > MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " levels");
        int start = pos++;
        List<Member> members = new ArrayList<>();
        int leadStart = pos;
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return new Value(Kind.OBJECT, start, pos, null, true, Collections.emptyList());
        }
        while (true) {
            if (peek() != '"') throw error("expected a member name");
            int keyStart = pos;
            Value key = string();
            skipWhitespace();
            if (peek() != ':') throw error("expected ':'");
            pos++;
            skipWhitespace();
            Value value = value(depth);
            members.add(new Member(key.text, leadStart, keyStart, key.end, value));
            skipWhitespace();
            byte next = peek();
            pos++;
            if (next == '}') return new Value(Kind.OBJECT, start, pos, null, true, members);
            if (next != ',') throw error("expected ',' or '}'", pos - 1);
            leadStart = pos;
            skipWhitespace();
        }
    }

    private Value array(int depth) throws MalformedJsonException {
        if (depth > MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH + " levels");
        int start = pos++;
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return new Value(Kind.ARRAY, start, pos, null, true, null);
        }
        while (true) {
            value(depth);
            skipWhitespace();
            byte next = peek();
            pos++;
            if (next == ']') return new Value(Kind.ARRAY, start, pos, null, true, null);
            if (next != ',') throw error("expected ',' or ']'", pos - 1);
            skipWhitespace();
        }
    }

    private Value string() throws MalformedJsonException {
        int start = pos++;
        // Fast path: plain ASCII without escapes is its own text.
        int p = pos;
        while (p < in.length) {
            byte b = in[p];
            if (b == '"') {
                byte[] text = java.util.Arrays.copyOfRange(in, pos, p);
                pos = p + 1;
                return new Value(Kind.STRING, start, pos, text, true, null);
            }
            if (b == '\\' || b < 0x20) break; // escapes, control characters and non-ASCII (negative) take the slow path
            p++;
        }
        ByteArrayOutputStream text = new ByteArrayOutputStream(Math.max(16, p - pos + 16));
        text.write(in, pos, p - pos);
        pos = p;
        boolean wellFormed = true;
        while (true) {
            if (pos >= in.length) throw error("unterminated string");
            int b = in[pos] & 0xff;
            if (b == '"') {
                pos++;
                return new Value(Kind.STRING, start, pos, text.toByteArray(), wellFormed, null);
            }
            if (b < 0x20) throw error("control character in string");
            if (b == '\\') {
                wellFormed &= escape(text);
            } else if (b < 0x80) {
                text.write(b);
                pos++;
            } else {
                int len = utf8SequenceLength(pos);
                if (len == 0) {
                    wellFormed = false; // Go accepts it and substitutes U+FFFD; we only remember it
                    text.write(b);
                    pos++;
                } else {
                    text.write(in, pos, len);
                    pos += len;
                }
            }
        }
    }

    /** Reads one escape at {@code pos}; returns false for a lone surrogate. */
    private boolean escape(ByteArrayOutputStream text) throws MalformedJsonException {
        if (pos + 1 >= in.length) throw error("unterminated escape");
        byte e = in[pos + 1];
        pos += 2;
        switch (e) {
            case '"': text.write('"'); return true;
            case '\\': text.write('\\'); return true;
            case '/': text.write('/'); return true;
            case 'b': text.write('\b'); return true;
            case 'f': text.write('\f'); return true;
            case 'n': text.write('\n'); return true;
            case 'r': text.write('\r'); return true;
            case 't': text.write('\t'); return true;
            case 'u': break;
            default: throw error("invalid escape", pos - 1);
        }
        int unit = hex4();
        if (Character.isHighSurrogate((char) unit)
                && pos + 1 < in.length && in[pos] == '\\' && in[pos + 1] == 'u') {
            int save = pos;
            pos += 2;
            int low = hex4();
            if (Character.isLowSurrogate((char) low)) {
                writeUtf8(text, Character.toCodePoint((char) unit, (char) low));
                return true;
            }
            pos = save; // the next escape stands on its own
        }
        if (Character.isSurrogate((char) unit)) {
            writeUtf8(text, 0xFFFD);
            return false;
        }
        writeUtf8(text, unit);
        return true;
    }

    private int hex4() throws MalformedJsonException {
        if (pos + 4 > in.length) throw error("truncated \\u escape");
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(in[pos + i], 16);
            if (d < 0) throw error("invalid \\u escape", pos + i);
            v = v << 4 | d;
        }
        pos += 4;
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
        if (p + len > in.length) return 0;
        int cp = b0 & (0xFF >> (len + 1));
        for (int i = 1; i < len; i++) {
            int b = in[p + i] & 0xff;
            if ((b & 0xC0) != 0x80) return 0;
            cp = cp << 6 | b & 0x3F;
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        return len;
    }

    private Value number() throws MalformedJsonException {
        int start = pos;
        if (peek() == '-') pos++;
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek()) ) {
            while (isDigit(peek())) pos++;
        } else {
            throw error("invalid number");
        }
        if (peek() == '.') {
            pos++;
            if (!isDigit(peek())) throw error("invalid number");
            while (isDigit(peek())) pos++;
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') pos++;
            if (!isDigit(peek())) throw error("invalid number");
            while (isDigit(peek())) pos++;
        }
        return new Value(Kind.NUMBER, start, pos, null, true, null);
    }

    private Value literal(String word, Kind kind) throws MalformedJsonException {
        int start = pos;
        for (int i = 0; i < word.length(); i++) {
            if (peek() != word.charAt(i)) throw error("invalid literal");
            pos++;
        }
        return new Value(kind, start, pos, null, true, null);
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    /** The byte at {@code pos}, or 0 at the end (0 never starts or continues a valid token). */
    private byte peek() {
        return pos < in.length ? in[pos] : 0;
    }

    private void skipWhitespace() {
        while (pos < in.length) {
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
