package dev.dockerconfigwebhook.core.json;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cursor on its own, in the manner of minimal-json's JsonParser_Test: malformed input is refused with the reason
 * and the byte offset where it stopped being JSON; well-formed input reports the exact spans of keys, leads and values
 * that splicing relies on.
 */
class JsonCursorTest {

    /** Whole-document validation: the value is skipped, then nothing may follow. */
    private static void validate(String json) throws JsonCursor.MalformedJsonException {
        JsonCursor cursor = new JsonCursor(json.getBytes(StandardCharsets.UTF_8));
        cursor.skipValue();
        cursor.finish();
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("", "unexpected end of input", 0),
                Arguments.of("   ", "unexpected end of input", 3),
                Arguments.of("x", "unexpected character", 0),
                Arguments.of("{", "unexpected end of input", 1),
                Arguments.of("{\"a\"", "expected ':'", 4),
                Arguments.of("{\"a\":", "unexpected end of input", 5),
                Arguments.of("{\"a\":1,}", "expected a member name", 7),
                Arguments.of("{\"a\":1 \"b\":2}", "expected ',' or '}'", 7),
                Arguments.of("{a:1}", "expected a member name", 1),
                Arguments.of("[1,]", "unexpected character", 3),
                Arguments.of("[1 2]", "expected ',' or ']'", 3),
                Arguments.of("[}", "unexpected character", 1),
                Arguments.of("{]", "expected a member name", 1),
                Arguments.of("\"abc", "unterminated string", 4),
                Arguments.of("\"a\\x\"", "invalid escape", 3),
                Arguments.of("\"\\u12g4\"", "invalid \\u escape", 5),
                Arguments.of("\"\\u12\"", "truncated \\u escape", 3),
                Arguments.of("\"a\tb\"", "control character in string", 2),
                Arguments.of("01", "unexpected data after the top-level value", 1),
                Arguments.of("-", "invalid number", 1),
                Arguments.of("1.", "invalid number", 2),
                Arguments.of("1e+", "invalid number", 3),
                Arguments.of("tru", "invalid literal", 3),
                Arguments.of("nul1", "invalid literal", 3),
                Arguments.of("{} {}", "unexpected data after the top-level value", 3),
                Arguments.of("\uFEFF{}", "unexpected character", 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void refusesMalformedInputWithReasonAndOffset(String json, String reason, int offset) {
        JsonCursor.MalformedJsonException e = assertThrows(JsonCursor.MalformedJsonException.class, () -> validate(json));
        assertEquals(reason + " at byte " + offset, e.getMessage());
    }

    static Stream<String> wellFormed() {
        return Stream.of("{}", "[]", "0", "-0.5e+10", "\"\"", "true", "null", " {\"a\" : [1, {\"b\":null}] } ",
                "\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "{\"a\":1,\"a\":2}", "[[[[[]]]]]");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wellFormed")
    void acceptsWellFormedInput(String json) throws Exception {
        validate(json);
    }

    @Test
    void depthIsGosLimit() throws Exception {
        validate("[".repeat(JsonCursor.MAX_DEPTH) + "]".repeat(JsonCursor.MAX_DEPTH));
        String deeper = "[".repeat(JsonCursor.MAX_DEPTH + 1) + "]".repeat(JsonCursor.MAX_DEPTH + 1);
        var e = assertThrows(JsonCursor.MalformedJsonException.class, () -> validate(deeper));
        assertEquals("nested deeper than 10000 levels at byte " + JsonCursor.MAX_DEPTH, e.getMessage());
    }

    /** A member as the cursor reports it: [lead, key) whitespace, key with quotes, value span. */
    record Member(String lead, String key, String value) {
    }

    private static List<Member> members(String json) throws Exception {
        byte[] in = json.getBytes(StandardCharsets.UTF_8);
        JsonCursor cursor = new JsonCursor(in);
        cursor.beginObject();
        List<Member> members = new ArrayList<>();
        while (cursor.nextMember()) {
            String lead = new String(in, cursor.memberLeadStart(), cursor.memberKeyStart() - cursor.memberLeadStart(), StandardCharsets.UTF_8);
            String key = new String(in, cursor.memberKeyStart(), cursor.memberKeyEnd() - cursor.memberKeyStart(), StandardCharsets.UTF_8);
            int start = cursor.position();
            cursor.skipValue();
            members.add(new Member(lead, key, new String(in, start, cursor.valueEnd() - start, StandardCharsets.UTF_8)));
        }
        cursor.finish();
        return members;
    }

    @Test
    void reportsSpansOfLeadsKeysAndValues() throws Exception {
        assertEquals(List.of(new Member("", "\"a\"", "1"), new Member(" ", "\"b\"", "[1, 2]")),
                members("{\"a\":1, \"b\" : [1, 2]}"));
        assertEquals(List.of(new Member("\n  ", "\"x\"", "{\"y\": \"z\"}"), new Member("\n  ", "\"\\u0061\"", "null")),
                members("{\n  \"x\": {\"y\": \"z\"},\n  \"\\u0061\": null\n}"));
        assertEquals(List.of(), members("{ }"));
    }

    @Test
    void readsStringsWithTheirSpanAndTheirText() throws Exception {
        byte[] in = "{\"k\" : \"a\\nb\\u00e9\" }".getBytes(StandardCharsets.UTF_8);
        JsonCursor cursor = new JsonCursor(in);
        cursor.beginObject();
        assertTrue(cursor.nextMember());
        assertTrue(cursor.memberKeyIsPlainAscii());
        assertArrayEquals("k".getBytes(StandardCharsets.UTF_8), cursor.memberKey());
        JsonCursor.Text text = cursor.readString();
        assertEquals(7, text.start());
        assertEquals(in.length - 2, text.end());
        assertEquals("a\nbé", text.string());
        assertTrue(text.wellFormed());
        assertEquals(text.end(), cursor.valueEnd());
        assertFalse(cursor.nextMember());
        cursor.finish();
    }

    @Test
    void invalidUtf8BecomesOneReplacementPerByteAsInGo() throws Exception {
        byte[] in = {'"', 'a', (byte) 0xE2, (byte) 0x82, 'b', (byte) 0xFF, '"'};
        JsonCursor.Text text = new JsonCursor(in).readString();
        assertFalse(text.wellFormed());
        assertArrayEquals("a\uFFFD\uFFFDb\uFFFD".getBytes(StandardCharsets.UTF_8), text.bytes());
        assertEquals(0, text.start());
        assertEquals(in.length, text.end(), "the span is still the raw string");
    }

    @Test
    void keysWithEscapesAreNotPlainButDecode() throws Exception {
        JsonCursor cursor = new JsonCursor("{\"\\u0061uth\":1}".getBytes(StandardCharsets.UTF_8));
        cursor.beginObject();
        assertTrue(cursor.nextMember());
        assertFalse(cursor.memberKeyIsPlainAscii(), "compared as written");
        assertArrayEquals("auth".getBytes(StandardCharsets.UTF_8), cursor.memberKey());
    }
}
