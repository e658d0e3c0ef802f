package dev.dockerconfigwebhook.core;

import dev.dockerconfigwebhook.core.json.JsonCursor;
import dev.dockerconfigwebhook.core.json.JsonCursor.Kind;
import dev.dockerconfigwebhook.core.json.JsonCursor.Text;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes every registry entry's {@code auth} agree with its {@code username} and {@code password} in one
 * Docker config document, changing only the bytes of the {@code auth} values it corrects (or inserting one
 * {@code "auth"} member where there was none).
 *
 * <p>Fields are read the way the kubelet's Go decoder reads them: names match case-insensitively, the last
 * occurrence of a duplicated field wins, and {@code null} leaves a field unset.
 *
 * <p>One pass of {@link JsonCursor} over the document: what it keeps is the edits it will make and the findings it
 * was asked to keep, never a tree of the document, so a document of 150,000 one-byte entries costs what it says.
 */
public final class DockerConfigRepair {

    /** A repaired document: {@code document} is the input array itself when nothing changed. */
    public record Result(byte[] document, boolean changed, Findings findings) {
    }

    private enum Field { USERNAME, PASSWORD, AUTH, EMAIL }

    private record Edit(int start, int end, byte[] replacement) {
    }

    /** The span of an entry's last member, where an inserted {@code auth} copies its layout from. */
    private record LastMember(int leadStart, int keyStart, int keyEnd, int valueStart, int valueEnd) {
    }

    private final byte[] document;
    private final String dataKey;
    private final List<Edit> edits = new ArrayList<>();
    private final Findings.Builder findings;
    private long growth;

    private DockerConfigRepair(byte[] document, String dataKey, int keptFindingsPerCategory) {
        this.document = document;
        this.dataKey = dataKey;
        this.findings = new Findings.Builder(keptFindingsPerCategory);
    }

    public static Result repair(byte[] document, PullSecretType type, int keptFindingsPerCategory) {
        return new DockerConfigRepair(document, type.dataKey(), keptFindingsPerCategory).run(type.entriesUnderAuths());
    }

    private Result run(boolean entriesUnderAuths) {
        JsonCursor cursor = new JsonCursor(document);
        try {
            if (cursor.peek() != Kind.OBJECT) {
                cursor.skipValue();
                cursor.finish();
                return unchanged(Finding.Kind.DOCUMENT_NOT_OBJECT);
            }
            if (entriesUnderAuths) {
                cursor.beginObject();
                while (cursor.nextMember()) {
                    Kind kind = cursor.peek();
                    if (!isAuths(cursor) || kind == Kind.NULL) {
                        cursor.skipValue(); // credHelpers, credsStore, HttpHeaders and unknown members are not ours
                    } else if (kind != Kind.OBJECT) {
                        findings.add(new Finding(dataKey, Finding.Kind.AUTHS_NOT_OBJECT));
                        cursor.skipValue();
                    } else {
                        repairEntries(cursor);
                    }
                }
            } else {
                repairEntries(cursor);
            }
            cursor.finish();
        } catch (JsonCursor.MalformedJsonException e) {
            return unchanged(Finding.Kind.DOCUMENT_NOT_JSON);
        }
        if (edits.isEmpty()) {
            return new Result(document, false, findings.build());
        }
        if (document.length + growth > PullSecretFixer.MAX_DOCUMENT_BYTES) {
            return unchanged(Finding.Kind.DOCUMENT_FIX_TOO_LARGE);
        }
        return new Result(applyEdits(), true, findings.build());
    }

    private Result unchanged(Finding.Kind kind) {
        return new Result(document, false, Findings.of(new Finding(dataKey, kind)));
    }

    private static boolean isAuths(JsonCursor cursor) {
        return cursor.memberKeyIsPlainAscii() ? equalsAsciiIgnoreCase(cursor, "AUTHS")
                : foldsTo(cursor.memberKey(), "AUTHS");
    }

    private void repairEntries(JsonCursor cursor) throws JsonCursor.MalformedJsonException {
        cursor.beginObject();
        while (cursor.nextMember()) {
            repairEntry(cursor);
        }
    }

    /** Records a finding about the registry whose key starts at {@code keyStart}, naming it only if it is kept. */
    private void report(JsonCursor cursor, int keyStart, Finding.Kind kind) {
        if (findings.keeps(kind)) {
            findings.add(new Finding(new String(cursor.stringAt(keyStart), StandardCharsets.UTF_8), kind));
        } else {
            findings.count(kind);
        }
    }

    private void repairEntry(JsonCursor cursor) throws JsonCursor.MalformedJsonException {
        int registry = cursor.memberKeyStart();
        Kind kind = cursor.peek();
        if (kind == Kind.NULL) {
            cursor.skipValue();
            return;
        }
        if (kind != Kind.OBJECT) {
            report(cursor, registry, Finding.Kind.ENTRY_NOT_OBJECT);
            cursor.skipValue();
            return;
        }
        Text[] effective = new Text[Field.values().length];
        Finding.Kind notAString = null;
        LastMember last = null;
        cursor.beginObject();
        while (cursor.nextMember()) {
            int leadStart = cursor.memberLeadStart();
            int keyStart = cursor.memberKeyStart();
            int keyEnd = cursor.memberKeyEnd();
            int valueStart = cursor.position();
            Field field = fieldNamed(cursor);
            Kind valueKind = cursor.peek();
            if (field == null || valueKind == Kind.NULL || notAString != null) {
                cursor.skipValue();
            } else if (valueKind != Kind.STRING) {
                notAString = notAString(field); // the kubelet rejects the whole secret; nothing here is safe to derive from
                cursor.skipValue();
            } else if (field == Field.EMAIL) {
                cursor.skipValue(); // only its type matters
            } else {
                effective[field.ordinal()] = cursor.readString();
            }
            last = new LastMember(leadStart, keyStart, keyEnd, valueStart, cursor.valueEnd());
        }
        if (notAString != null) {
            report(cursor, registry, notAString);
            return;
        }
        Text username = effective[Field.USERNAME.ordinal()];
        Text password = effective[Field.PASSWORD.ordinal()];
        Text auth = effective[Field.AUTH.ordinal()];
        if (username == null || password == null) {
            if (auth != null && auth.bytes().length > 0 && !KubeletAuth.parsable(auth.bytes())) {
                report(cursor, registry, Finding.Kind.AUTH_UNPARSABLE);
            }
            return;
        }
        byte[] user = username.bytes();
        byte[] pass = password.bytes();
        // Invalid UTF-8 and unpaired surrogate escapes are already U+FFFD here, as Go decodes them: the kubelet would
        // use exactly these bytes without an auth, so auth is derived from them (and the warning says so).
        boolean replaced = !username.wellFormed() || !password.wellFormed();
        if (user.length == 0) {
            report(cursor, registry, Finding.Kind.EMPTY_USERNAME);
        } else if (KubeletAuth.indexOf(user, (byte) ':') >= 0) {
            report(cursor, registry, Finding.Kind.COLON_IN_USERNAME);
        } else if (auth == null) {
            insertAuthAfter(last, KubeletAuth.encode(user, pass));
            report(cursor, registry, replaced ? Finding.Kind.AUTH_FROM_REPLACED_TEXT : Finding.Kind.AUTH_ADDED);
        } else if (!KubeletAuth.matches(auth.bytes(), user, pass)) {
            addEdit(new Edit(auth.start(), auth.end(), quoted(KubeletAuth.encode(user, pass))));
            report(cursor, registry, replaced ? Finding.Kind.AUTH_FROM_REPLACED_TEXT : Finding.Kind.AUTH_RECOMPUTED);
        }
    }

    private void addEdit(Edit edit) {
        edits.add(edit);
        growth += edit.replacement().length - (edit.end() - edit.start());
    }

    /** Inserts {@code , "auth": "..."} after {@code last}, copying its indentation and separator style. */
    private void insertAuthAfter(LastMember last, byte[] encoded) {
        ByteArrayOutputStream member = new ByteArrayOutputStream(encoded.length + 32);
        member.write(',');
        member.write(document, last.leadStart(), last.keyStart() - last.leadStart());
        member.writeBytes("\"auth\"".getBytes(StandardCharsets.US_ASCII));
        member.write(document, last.keyEnd(), last.valueStart() - last.keyEnd());
        member.writeBytes(quoted(encoded));
        int at = last.valueEnd();
        addEdit(new Edit(at, at, member.toByteArray()));
    }

    private byte[] applyEdits() {
        // Edits are made in document order: one pass, so they are already sorted.
        int size = document.length;
        for (Edit edit : edits) {
            size += edit.replacement().length - (edit.end() - edit.start());
        }
        byte[] out = new byte[size];
        int copied = 0;
        int written = 0;
        for (Edit edit : edits) {
            int unchanged = edit.start() - copied;
            System.arraycopy(document, copied, out, written, unchanged);
            written += unchanged;
            System.arraycopy(edit.replacement(), 0, out, written, edit.replacement().length);
            written += edit.replacement().length;
            copied = edit.end();
        }
        System.arraycopy(document, copied, out, written, document.length - copied);
        return out;
    }

    private static byte[] quoted(byte[] base64) {
        byte[] out = new byte[base64.length + 2];
        out[0] = '"';
        System.arraycopy(base64, 0, out, 1, base64.length);
        out[out.length - 1] = '"';
        return out;
    }

    private static final Field[] FIELDS = Field.values();

    /**
     * Go's encoding/json matches member names to struct fields case-insensitively. ASCII names are compared
     * in place; names with other characters go through {@link #foldsTo} (Go's folding, not Java's).
     */
    private static Field fieldNamed(JsonCursor cursor) {
        int rawLength = cursor.memberKeyEnd() - cursor.memberKeyStart() - 2;
        if (rawLength < 4) {
            return null; // shorter than "auth", even written with escapes
        }
        if (cursor.memberKeyIsPlainAscii()) {
            for (Field field : FIELDS) {
                if (equalsAsciiIgnoreCase(cursor, field.name())) return field;
            }
            return null;
        }
        if (rawLength > 8 * 6) {
            return null; // "password" with every letter escaped as \\uXXXX is the longest spelling of a field name
        }
        byte[] key = cursor.memberKey();
        for (Field field : FIELDS) {
            if (foldsTo(key, field.name())) return field;
        }
        return null;
    }

    /**
     * Whether Go's encoding/json matches the member name {@code key} (decoded UTF-8) to the struct field whose
     * upper-case ASCII name is {@code upperName}. Go folds each rune to the smallest rune of its Unicode simple-folding
     * orbit (ASCII letters to upper case); the only non-ASCII runes whose orbit reaches ASCII are U+017F 'ſ' (onto S)
     * and U+212A KELVIN SIGN (onto K). So unlike Java's equalsIgnoreCase, 'ı' (U+0131) and 'İ' (U+0130) match nothing.
     */
    static boolean foldsTo(byte[] key, String upperName) {
        int i = 0;
        for (int n = 0; n < upperName.length(); n++) {
            if (i >= key.length) return false;
            int b = key[i] & 0xff;
            int folded;
            if (b < 0x80) {
                folded = b >= 'a' && b <= 'z' ? b - 32 : b;
                i++;
            } else if (b == 0xC5 && i + 1 < key.length && (key[i + 1] & 0xff) == 0xBF) {
                folded = 'S'; // U+017F LATIN SMALL LETTER LONG S
                i += 2;
            } else if (b == 0xE2 && i + 2 < key.length && (key[i + 1] & 0xff) == 0x84 && (key[i + 2] & 0xff) == 0xAA) {
                folded = 'K'; // U+212A KELVIN SIGN
                i += 3;
            } else {
                return false; // any other non-ASCII rune folds to a non-ASCII rune, which no field name has
            }
            if (folded != upperName.charAt(n)) return false;
        }
        return i == key.length;
    }

    private static boolean equalsAsciiIgnoreCase(JsonCursor cursor, String upperName) {
        byte[] in = cursor.document();
        int start = cursor.memberKeyStart() + 1;
        if (cursor.memberKeyEnd() - 1 - start != upperName.length()) {
            return false;
        }
        for (int i = 0; i < upperName.length(); i++) {
            int b = in[start + i];
            if ((b >= 'a' && b <= 'z' ? b - 32 : b) != upperName.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static Finding.Kind notAString(Field field) {
        switch (field) {
            case USERNAME: return Finding.Kind.USERNAME_NOT_STRING;
            case PASSWORD: return Finding.Kind.PASSWORD_NOT_STRING;
            case AUTH: return Finding.Kind.AUTH_NOT_STRING;
            default: return Finding.Kind.EMAIL_NOT_STRING;
        }
    }
}
