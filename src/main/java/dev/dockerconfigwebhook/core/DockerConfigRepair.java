package dev.dockerconfigwebhook.core;

import dev.dockerconfigwebhook.core.json.SpanJson;
import dev.dockerconfigwebhook.core.json.SpanJson.Kind;
import dev.dockerconfigwebhook.core.json.SpanJson.Member;
import dev.dockerconfigwebhook.core.json.SpanJson.Value;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Makes every registry entry's {@code auth} agree with its {@code username} and {@code password} in one
 * Docker config document, changing only the bytes of the {@code auth} values it corrects (or inserting one
 * {@code "auth"} member where there was none).
 *
 * <p>Fields are read the way the kubelet's Go decoder reads them: names match case-insensitively, the last
 * occurrence of a duplicated field wins, and {@code null} leaves a field unset.
 */
public final class DockerConfigRepair {

    /** A repaired document: {@code document} is the input array itself when nothing changed. */
    public record Result(byte[] document, boolean changed, List<Finding> findings) {
    }

    private enum Field { USERNAME, PASSWORD, AUTH, EMAIL }

    private record Edit(int start, int end, byte[] replacement) {
    }

    private final byte[] document;
    private final String dataKey;
    private final List<Edit> edits = new ArrayList<>();
    private final List<Finding> findings = new ArrayList<>();

    private DockerConfigRepair(byte[] document, String dataKey) {
        this.document = document;
        this.dataKey = dataKey;
    }

    public static Result repair(byte[] document, PullSecretType type) {
        return new DockerConfigRepair(document, type.dataKey()).run(type.entriesUnderAuths());
    }

    private Result run(boolean entriesUnderAuths) {
        Value root;
        try {
            root = SpanJson.parse(document);
        } catch (SpanJson.MalformedJsonException e) {
            return unchanged(new Finding(dataKey, Finding.Kind.DOCUMENT_NOT_JSON));
        }
        if (root.kind() != Kind.OBJECT) {
            return unchanged(new Finding(dataKey, Finding.Kind.DOCUMENT_NOT_OBJECT));
        }
        if (entriesUnderAuths) {
            for (Member member : root.members()) {
                if (!member.keyText().equalsIgnoreCase("auths") || member.value().kind() == Kind.NULL) {
                    continue; // credHelpers, credsStore, HttpHeaders and unknown members are not ours
                }
                if (member.value().kind() != Kind.OBJECT) {
                    findings.add(new Finding(dataKey, Finding.Kind.AUTHS_NOT_OBJECT));
                } else {
                    repairEntries(member.value());
                }
            }
        } else {
            repairEntries(root);
        }
        return edits.isEmpty() ? new Result(document, false, List.copyOf(findings))
                : new Result(applyEdits(), true, List.copyOf(findings));
    }

    private Result unchanged(Finding finding) {
        return new Result(document, false, List.of(finding));
    }

    private void repairEntries(Value registries) {
        for (Member registry : registries.members()) {
            repairEntry(registry, registry.value());
        }
    }

    private void report(Member registry, Finding.Kind kind) {
        findings.add(new Finding(registry.keyText(), kind));
    }

    private void repairEntry(Member registry, Value entry) {
        if (entry.kind() == Kind.NULL) {
            return;
        }
        if (entry.kind() != Kind.OBJECT) {
            report(registry, Finding.Kind.ENTRY_NOT_OBJECT);
            return;
        }
        Member[] effective = new Member[Field.values().length];
        for (Member member : entry.members()) {
            Field field = fieldNamed(member.key());
            if (field == null || member.value().kind() == Kind.NULL) {
                continue;
            }
            if (member.value().kind() != Kind.STRING) {
                report(registry, notAString(field));
                return; // the kubelet rejects the whole secret; nothing here is safe to derive from
            }
            effective[field.ordinal()] = member;
        }
        Member username = effective[Field.USERNAME.ordinal()];
        Member password = effective[Field.PASSWORD.ordinal()];
        Member auth = effective[Field.AUTH.ordinal()];
        if (username == null || password == null) {
            if (auth != null && auth.value().text().length > 0 && !KubeletAuth.parsable(auth.value().text())) {
                report(registry, Finding.Kind.AUTH_UNPARSABLE);
            }
            return;
        }
        byte[] user = username.value().text();
        byte[] pass = password.value().text();
        if (!username.value().wellFormedText() || !password.value().wellFormedText()) {
            report(registry, Finding.Kind.MALFORMED_TEXT);
        } else if (user.length == 0) {
            report(registry, Finding.Kind.EMPTY_USERNAME);
        } else if (KubeletAuth.indexOf(user, (byte) ':') >= 0) {
            report(registry, Finding.Kind.COLON_IN_USERNAME);
        } else if (auth == null) {
            insertAuthAfter(entry.members().get(entry.members().size() - 1), KubeletAuth.encode(user, pass));
            report(registry, Finding.Kind.AUTH_ADDED);
        } else if (!KubeletAuth.matches(auth.value().text(), user, pass)) {
            edits.add(new Edit(auth.value().start(), auth.value().end(), quoted(KubeletAuth.encode(user, pass))));
            report(registry, Finding.Kind.AUTH_RECOMPUTED);
        }
    }

    /** Inserts {@code , "auth": "..."} after {@code last}, copying its indentation and separator style. */
    private void insertAuthAfter(Member last, byte[] encoded) {
        ByteArrayOutputStream member = new ByteArrayOutputStream(encoded.length + 32);
        member.write(',');
        member.write(document, last.leadStart(), last.keyStart() - last.leadStart());
        member.writeBytes("\"auth\"".getBytes(StandardCharsets.US_ASCII));
        member.write(document, last.keyEnd(), last.value().start() - last.keyEnd());
        member.writeBytes(quoted(encoded));
        int at = last.value().end();
        edits.add(new Edit(at, at, member.toByteArray()));
    }

    private byte[] applyEdits() {
        edits.sort(Comparator.comparingInt(Edit::start));
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
     * byte by byte; names with other characters go through Unicode case folding (Go folds 'ſ' to 's', 'K' to 'k').
     */
    private static Field fieldNamed(byte[] key) {
        if (key.length < 4 || key.length > 24) {
            return null; // "auth" .. "password", where a folded non-ASCII letter may take up to 3 bytes
        }
        boolean ascii = true;
        for (byte b : key) {
            ascii &= b >= 0;
        }
        for (Field field : FIELDS) {
            String name = field.name();
            if (ascii ? equalsAsciiIgnoreCase(key, name)
                    : name.equalsIgnoreCase(new String(key, StandardCharsets.UTF_8))) {
                return field;
            }
        }
        return null;
    }

    private static boolean equalsAsciiIgnoreCase(byte[] key, String upperName) {
        if (key.length != upperName.length()) {
            return false;
        }
        for (int i = 0; i < key.length; i++) {
            int b = key[i];
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
